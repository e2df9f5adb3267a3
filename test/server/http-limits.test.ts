/**
 * Slow and excess clients against a real listening server, and bodies nested deep enough to break
 * recursive code behind the readers.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let port: number;
let admin: { authorization: string };

beforeAll(async () => {
  s = await createTestServer({
    env: {
      INTEGRATOR_HEADERS_TIMEOUT: '1',
      INTEGRATOR_REQUEST_TIMEOUT: '2',
      INTEGRATOR_MAX_CONNECTIONS: '3',
    },
  });
  const url = await s.app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(url).port);
  admin = await s.login('admin', 'admin-password-1');
});
afterAll(() => s.close());

/** A raw TCP client; `closed` settles with what the server sent before it closed the connection. */
function rawClient(): Promise<{ socket: Socket; closed: Promise<{ data: string; afterMs: number }> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let data = '';
    socket.on('data', (b) => {
      data += b.toString();
    });
    const closed = new Promise<{ data: string; afterMs: number }>((done) => {
      socket.on('close', () => done({ data, afterMs: Date.now() - started }));
    });
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function get(path: string, keepAlive: Socket): Promise<string> {
  return new Promise((resolve) => {
    keepAlive.once('data', (b) => resolve(b.toString()));
    keepAlive.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe('HTTP limits', () => {
  it('cuts off a client that sends half its headers after the header timeout', async () => {
    const { socket, closed } = await rawClient();
    socket.write('POST /rest/v1/token-auth/issue HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
    const { data, afterMs } = await closed;
    expect(data).toMatch(/^HTTP\/1\.1 408/);
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(4000);
  });

  it('cuts off a client that trickles its body after the request timeout', async () => {
    const { socket, closed } = await rawClient();
    socket.write('POST /rest/v1/token-auth/issue HTTP/1.1\r\nHost: x\r\n');
    socket.write('Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"login":');
    const trickle = setInterval(() => socket.write(' '), 200);
    const { data, afterMs } = await closed;
    clearInterval(trickle);
    expect(data).toMatch(/^HTTP\/1\.1 408/);
    expect(afterMs).toBeGreaterThanOrEqual(1900);
    expect(afterMs).toBeLessThan(5000);
  });

  it('refuses connections above the cap, and serves again once one closes', async () => {
    const held = await Promise.all([rawClient(), rawClient(), rawClient()]);
    // Each held connection is a live keep-alive one, so the header timeout does not end it.
    for (const h of held) expect(await get('/healthz', h.socket)).toMatch(/^HTTP\/1\.1 200/);
    const extra = await rawClient();
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await extra.closed;
    expect(refused.data).toBe('');
    expect(refused.afterMs).toBeLessThan(1000);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    const next = await rawClient();
    expect(await get('/healthz', next.socket)).toMatch(/^HTTP\/1\.1 200/);
    for (const h of [...held.slice(1), next]) h.socket.destroy();
  });
});

describe('nesting limits of request bodies', () => {
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('answers 400 naming the limit for a REST JSON body nested 100,000 deep', async () => {
    const res = await s.app.inject({
      method: 'PUT',
      url: '/rest/v1/flows/deep',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: `{"type":"sql","connection":"x","sql":"select 1","description":${deep(100_000)}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('Request body: the JSON document nests deeper than 64 levels');
  });

  it('answers 400 for a project YAML alias bomb and for deeply nested YAML', async () => {
    const apply = (yaml: string) =>
      s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...admin, 'content-type': 'application/yaml' },
        payload: yaml,
      });
    let bomb = 'kind: flow\nname: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) bomb += `a${i}: &a${i} [${`*a${i - 1}, `.repeat(8)}*a${i - 1}]\n`;
    const alias = await apply(bomb);
    expect(alias.statusCode).toBe(400);
    expect(alias.json().error.message).toMatch(/document 1 \(line 1\): aliases expand too much/);
    for (const levels of [80, 100_000]) {
      const res = await apply(`kind: flow\nname: deep\ntype: sql\ndescription: ${deep(levels)}\n`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/the document nests deeper than 64 levels/);
    }
  });

  it('answers 400 naming the record for a listener body nested too deep (JSON, NDJSON, XML)', async () => {
    const put = async (url: string, payload: object) => {
      const res = await s.app.inject({ method: 'PUT', url, headers: admin, payload });
      expect(res.statusCode, res.body).toBeLessThan(300);
    };
    await put('/rest/v1/connections/db', { type: 'sqlite', path: 'files/deep.db' });
    await put('/rest/v1/flows/into-db', {
      type: 'transfer',
      steps: [{ from: { connection: '@request' }, to: { connection: 'db', table: 'landed' } }],
    });
    await put('/rest/v1/listeners/deep', { path: 'deep/in', flow: 'into-db' });
    const post = async (body: string, type: string) => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/httplistener/deep/in',
        headers: { ...admin, 'content-type': type },
        payload: body,
      });
      return { status: res.statusCode, message: String(res.json().error?.message) };
    };
    const levels = 100_000;
    expect(await post(`[{"id":1,"v":${deep(levels)}}]`, 'application/json')).toEqual({
      status: 400,
      message: 'request body line 1 column 2: record 1 nests deeper than 64 levels',
    });
    expect(await post(`{"id":1}\n{"id":2,"v":${deep(levels)}}\n`, 'application/x-ndjson')).toEqual({
      status: 400,
      message: 'request body line 2: the record nests deeper than 64 levels',
    });
    expect(
      await post(
        `<rows><row>${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</row></rows>`,
        'application/xml',
      ),
    ).toEqual({ status: 400, message: 'request body record 1: element <a> nests deeper than 64 levels' });
  });
});
