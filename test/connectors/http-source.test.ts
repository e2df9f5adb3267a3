/**
 * The http connection as a source, through the real server and flow engine, against real HTTP servers
 * this file starts: every pagination style, every auth type (a real OAuth token endpoint with expiry),
 * retries, timeouts, malformed bodies, URL-encoded parameters, masked secrets, a reset mid-body.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, putDefinition, type TestServer } from '../helpers/server.js';
import { json, startTestApi, type TestApi } from './http-test-api.js';

const by = { name: 'test' };
const items = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => ({ id: from + i, name: `item ${from + i}` }));

describe('http connection as a source', () => {
  let s: TestServer;
  let api: TestApi;
  let n = 0;
  const run = (flow: string, params: Record<string, string> = {}): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params, trigger: 'api', requestedBy: 'test' });
  const connection = (name: string, spec: Record<string, unknown>) =>
    s.ctx.definitions.put('connection', name, { type: 'http', baseUrl: api.url, ...spec }, by);
  /** Reads `request` from the connection into a fresh SQLite table; returns the run and the rows. */
  async function load(
    conn: string,
    request: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    params: Record<string, string> = {},
  ) {
    const table = `t${++n}`;
    await s.ctx.definitions.put(
      'flow',
      table,
      {
        type: 'transfer',
        steps: [{ from: { connection: conn, request, ...extra }, to: { connection: 'db', table } }],
      },
      by,
    );
    const r = await run(table, params);
    const db = new Database(join(s.dataDir, 'files', 'http.db'), { readonly: true });
    try {
      const exists = db.prepare(`select name from sqlite_master where name = ?`).get(table);
      const rows = exists
        ? (db.prepare(`select * from ${table} order by rowid`).all() as Record<string, unknown>[])
        : [];
      return { run: r, rows };
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    s = await createTestServer();
    api = await startTestApi();
    await s.ctx.definitions.put('connection', 'db', { type: 'sqlite', path: 'files/http.db' }, by);
    await connection('api', { retryDelay: 0.01 });
  });
  afterAll(async () => {
    await s.close();
    await api.close();
  });

  it('reads one answer with a record path, and parameters are URL-encoded in path and query', async () => {
    api.route('/orders/a%26b%2Fc%23d%20e', (req, res) =>
      json(res, 200, { data: { items: items(1, 3) }, q: req.url.searchParams.get('q') }),
    );
    const { run: r, rows } = await load(
      'api',
      { path: '/orders/{who}', query: { q: '{who}', fixed: 'x' }, records: 'data.items' },
      {},
      { who: 'a&b/c#d e' },
    );
    expect(r.error).toBeNull();
    expect(rows).toEqual(items(1, 3));
    const seen = api.to('/orders/a%26b%2Fc%23d%20e').at(-1);
    expect(seen?.url.searchParams.get('q')).toBe('a&b/c#d e');
    expect(seen?.url.searchParams.get('fixed')).toBe('x');
    expect([...(seen?.url.searchParams.keys() ?? [])]).toEqual(['q', 'fixed']);
  });

  it('refuses a parameter that would climb out of the path', async () => {
    const { run: r } = await load('api', { path: '/orders/{who}' }, {}, { who: '..' });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/'\{who\}' used in from\.request\.path may not be '\.\.'/);
  });

  it('pages by page number until an empty page', async () => {
    api.route('/paged', (req, res) => {
      const page = Number(req.url.searchParams.get('page'));
      const size = Number(req.url.searchParams.get('per_page'));
      json(res, 200, items((page - 1) * size + 1, Math.min(page * size, 25)));
    });
    const { run: r, rows } = await load('api', { path: 'paged', pagination: { type: 'page', size: 10 } });
    expect(r.error).toBeNull();
    expect(rows).toEqual(items(1, 25));
    expect(api.to('/paged').map((x) => x.url.searchParams.get('page'))).toEqual(['1', '2', '3', '4']);
  });

  it('pages by offset and limit, advancing by the records each page gave', async () => {
    api.route('/offset', (req, res) => {
      const offset = Number(req.url.searchParams.get('offset'));
      // The API caps the limit at 7 whatever is asked.
      const limit = Math.min(7, Number(req.url.searchParams.get('limit')));
      json(res, 200, { rows: items(offset + 1, Math.min(offset + limit, 20)) });
    });
    const { run: r, rows } = await load('api', {
      path: 'offset',
      records: 'rows',
      pagination: { type: 'offset', size: 10 },
    });
    expect(r.error).toBeNull();
    expect(rows).toEqual(items(1, 20));
    expect(api.to('/offset').map((x) => x.url.searchParams.get('offset'))).toEqual(['0', '7', '14', '20']);
  });

  it('pages by a cursor from the body until there is none', async () => {
    api.route('/cursor', (req, res) => {
      const c = Number(req.url.searchParams.get('after') ?? '0');
      const next = c + 5 < 12 ? String(c + 5) : null;
      json(res, 200, { items: items(c + 1, Math.min(c + 5, 12)), meta: { next } });
    });
    const { run: r, rows } = await load('api', {
      path: 'cursor',
      records: 'items',
      pagination: { type: 'cursor', param: 'after', path: 'meta.next', size: 5, sizeParam: 'limit' },
    });
    expect(r.error).toBeNull();
    expect(rows).toEqual(items(1, 12));
    expect(api.to('/cursor').map((x) => x.url.searchParams.get('after'))).toEqual([null, '5', '10']);
    // Every page asks the page size, not only the first.
    expect(api.to('/cursor').map((x) => x.url.searchParams.get('limit'))).toEqual(['5', '5', '5']);
  });

  it('pages by a next URL from the body, relative or absolute, and stops at maxPages', async () => {
    api.route('/next', (req, res) => {
      const p = Number(req.url.searchParams.get('p') ?? '1');
      const next = p === 1 ? '/next?p=2' : `${api.url}/next?p=${p + 1}`;
      json(res, 200, { items: items(p * 10, p * 10 + 1), links: { next } });
    });
    const { run: r, rows } = await load('api', {
      path: 'next',
      records: 'items',
      pagination: { type: 'next-url', path: 'links.next', maxPages: 3 },
    });
    expect(r.error).toBeNull();
    expect(rows.map((x) => x['id'])).toEqual([10, 11, 20, 21, 30, 31]);
  });

  it('refuses a next URL at another origin: the credentials stay with the API', async () => {
    api.route('/elsewhere', (_req, res) =>
      json(res, 200, { items: items(1, 1), next: 'http://example.invalid/steal' }),
    );
    const { run: r, rows } = await load('api', {
      path: 'elsewhere',
      records: 'items',
      pagination: { type: 'next-url', path: 'next' },
    });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/page 1 .*not at the connection's origin/);
    expect(rows).toEqual([]);
  });

  it('pages by the Link header (rel=next), with NDJSON bodies', async () => {
    api.route('/linked', (req, res) => {
      const p = Number(req.url.searchParams.get('page') ?? '1');
      const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
      if (p < 3)
        headers.link = `<${api.url}/linked?page=${p + 1}>; rel="next", <${api.url}/linked?page=3>; rel="last"`;
      res.writeHead(200, headers);
      res.end(
        `${items(p * 2 - 1, p * 2)
          .map((x) => JSON.stringify(x))
          .join('\n')}\n`,
      );
    });
    const { run: r, rows } = await load(
      'api',
      { path: 'linked', pagination: { type: 'link-header' } },
      { format: { type: 'ndjson' } },
    );
    expect(r.error).toBeNull();
    expect(rows).toEqual(items(1, 6));
  });

  it('reads CSV and XML answers through the formats', async () => {
    api.route('/csv', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('id,name\n1,one\n2,"two, too"\n');
    });
    api.route('/xml', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<r><list><o><id>7</id><name>seven</name></o><o><id>8</id><name>eight</name></o></list></r>');
    });
    const csv = await load('api', { path: 'csv' }, { format: { type: 'csv' } });
    expect(csv.rows).toEqual([
      { id: '1', name: 'one' },
      { id: '2', name: 'two, too' },
    ]);
    const xml = await load('api', { path: 'xml', records: 'r/list/o' }, { format: { type: 'xml' } });
    expect(xml.run.error).toBeNull();
    expect(xml.rows).toEqual([
      { id: '7', name: 'seven' },
      { id: '8', name: 'eight' },
    ]);
  });

  it('fails a malformed page naming the page and the record, and writes nothing', async () => {
    api.route('/broken', (req, res) => {
      const p = Number(req.url.searchParams.get('page'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(p === 1 ? JSON.stringify(items(1, 3)) : '[{"id": 4}, {"id": 5,, "name": "x"}]');
    });
    const { run: r, rows } = await load('api', { path: 'broken', pagination: { type: 'page' } });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /^page 2 \(GET http:\/\/127\.0\.0\.1:\d+\/broken\?page=2\) line 1 column \d+: record 2 is not valid JSON/,
    );
    expect(rows).toEqual([]);
    // A cursor page is parsed whole; its error is worded the same way.
    api.route('/broken-cursor', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"items": [{"id": 1}, {"id": 2}, 7], "next": null}');
    });
    const c = await load('api', {
      path: 'broken-cursor',
      records: 'items',
      pagination: { type: 'cursor', path: 'next' },
    });
    expect(c.run.error).toMatch(/^page 1 \(GET .*\/broken-cursor\).*record 3 is not an object/);
  });

  it('reads a page as its encoding says: invalid bytes fail naming the page and offset, or are replaced', async () => {
    // A small page (read whole) and a cursor page alike: bytes that are not UTF-8 are never guessed.
    const bad = Buffer.concat([
      Buffer.from('{"items": [{"id": 1, "name": "caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}], "next": null}'),
    ]);
    api.route('/latin', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bad.length });
      res.end(bad);
    });
    for (const pagination of [undefined, { type: 'cursor', path: 'next' }]) {
      const { run: r } = await load('api', {
        path: 'latin',
        records: 'items',
        ...(pagination ? { pagination } : {}),
      });
      expect(r.error).toMatch(/^page 1 \(GET .*\/latin\) byte offset 33: not valid UTF-8/);
    }
    const latin1 = await load(
      'api',
      { path: 'latin', records: 'items' },
      { format: { type: 'json', options: { encoding: 'latin1' } } },
    );
    expect(latin1.rows).toEqual([{ id: 1, name: 'café' }]);
    const replaced = await load(
      'api',
      { path: 'latin', records: 'items', pagination: { type: 'cursor', path: 'next' } },
      { format: { type: 'json', options: { invalidBytes: 'replace' } } },
    );
    expect(replaced.rows).toEqual([{ id: 1, name: 'caf\uFFFD' }]);
  });

  it('fails on a 4xx answer with the API words, without retrying', async () => {
    const before = api.to('/missing').length;
    const { run: r } = await load('api', { path: 'missing' });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /^page 1: GET http:\/\/127\.0\.0\.1:\d+\/missing answered 404: \{"error":"no route \/missing"\}/,
    );
    expect(api.to('/missing').length - before).toBe(1);
  });

  it('retries 429 honouring Retry-After (seconds and HTTP date) and bursts of 5xx', async () => {
    let calls = 0;
    const times: number[] = [];
    api.route('/busy', (_req, res) => {
      times.push(Date.now());
      calls++;
      if (calls === 1) return json(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
      if (calls === 2)
        return json(
          res,
          503,
          { error: 'later' },
          { 'retry-after': new Date(Date.now() + 1500).toUTCString() },
        );
      if (calls <= 4) return json(res, 502, { error: 'bad gateway' });
      json(res, 200, items(1, 2));
    });
    const { run: r, rows } = await load('api', { path: 'busy' });
    expect(r.error).toBeNull();
    expect(rows).toEqual(items(1, 2));
    expect(calls).toBe(5);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    // An HTTP date has a one-second resolution.
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(400);
  });

  it('gives up after the retries, naming the status, and refuses a Retry-After beyond maxRetryDelay', async () => {
    await connection('api-short', { retries: 2, retryDelay: 0.01, maxRetryDelay: 5 });
    let calls = 0;
    api.route('/down', (_req, res) => {
      calls++;
      json(res, 500, { error: 'down' });
    });
    const { run: r } = await load('api-short', { path: 'down' });
    expect(r.error).toMatch(/page 1: GET .*\/down answered 500 3 times: \{"error":"down"\}/);
    expect(calls).toBe(3);
    api.route('/much-later', (_req, res) => json(res, 429, {}, { 'retry-after': '3600' }));
    const later = await load('api-short', { path: 'much-later' });
    expect(later.run.error).toMatch(/Retry-After 3600, longer than maxRetryDelay \(5 s\)/);
  });

  it('times out a slow answer, retries it, and fails when it stays slow', async () => {
    await connection('api-timeout', { timeout: 0.3, retries: 1, retryDelay: 0.01 });
    let calls = 0;
    api.route('/slow', (_req, res) => {
      calls++;
      const wait = calls === 1 ? 3000 : 0;
      setTimeout(() => json(res, 200, items(1, 1)), wait).unref();
    });
    const ok = await load('api-timeout', { path: 'slow' });
    expect(ok.run.error).toBeNull();
    expect(ok.rows).toEqual(items(1, 1));
    expect(calls).toBe(2);
    api.route('/slower', (_req, res) => {
      setTimeout(() => json(res, 200, []), 6000).unref();
    });
    const started = Date.now();
    const slow = await load('api-timeout', { path: 'slower' });
    expect(slow.run.error).toMatch(/page 1: GET .*\/slower failed after 2 attempts: .*timeout/i);
    // Two attempts cut short (undici's timers tick coarsely, about once a second), not one full answer.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('fails a body larger than maxResponseBytes', async () => {
    await connection('api-small', { maxResponseBytes: 2048 });
    api.route('/big', (_req, res) => json(res, 200, items(1, 200)));
    const { run: r } = await load('api-small', { path: 'big' });
    expect(r.error).toMatch(
      /page 1: GET .*\/big answered a body larger than maxResponseBytes \(2048 bytes\)/,
    );
  });

  it('survives an API that resets the connection mid-body: the run fails, the server keeps serving', async () => {
    api.route('/reset', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`[${JSON.stringify(items(1, 1)[0])},`);
      setTimeout(() => res.socket?.resetAndDestroy(), 50);
    });
    const { run: r, rows } = await load('api', { path: 'reset' });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/page 1: GET .*\/reset: the answer broke off after \d+ bytes/);
    expect(rows).toEqual([]);
    api.route('/after-reset', (_req, res) => json(res, 200, items(1, 1)));
    expect((await load('api', { path: 'after-reset' })).rows).toEqual(items(1, 1));
    expect((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('sends a JSON body template with typed parameters', async () => {
    api.route('/search', (req, res) => json(res, 200, { echo: JSON.parse(req.body) }));
    const { run: r, rows } = await load(
      'api',
      { method: 'POST', path: 'search', body: { limit: '{limit}', q: 'name:{q}' }, records: 'echo' },
      {},
      { limit: '5', q: '"quoted" & more' },
    );
    expect(r.error).toBeNull();
    expect(rows).toEqual([{ limit: '5', q: 'name:"quoted" & more' }]);
    expect(api.to('/search').at(-1)?.headers['content-type']).toBe('application/json');
  });

  describe('auth', () => {
    const secured = (check: (req: { headers: Record<string, unknown>; url: URL }) => boolean) => {
      api.route('/secured', (req, res) =>
        check(req) ? json(res, 200, items(1, 1)) : json(res, 401, { error: 'who are you' }),
      );
    };

    it('none, basic, bearer, api-key in a header and in the query', async () => {
      secured((req) => req.headers['authorization'] === undefined && req.headers['x-api-key'] === undefined);
      expect((await load('api', { path: 'secured' })).rows).toEqual(items(1, 1));

      await connection('basic', { auth: 'basic', username: 'ada', password: 'pa:ss wörd' });
      const basic = `Basic ${Buffer.from('ada:pa:ss wörd').toString('base64')}`;
      secured((req) => req.headers['authorization'] === basic);
      expect((await load('basic', { path: 'secured' })).rows).toEqual(items(1, 1));

      await connection('bearer', { auth: 'bearer', token: 'tok-123' });
      secured((req) => req.headers['authorization'] === 'Bearer tok-123');
      expect((await load('bearer', { path: 'secured' })).rows).toEqual(items(1, 1));

      await connection('key-header', { auth: 'api-key', apiKey: 'k-1', apiKeyName: 'X-Key' });
      secured((req) => req.headers['x-key'] === 'k-1');
      expect((await load('key-header', { path: 'secured' })).rows).toEqual(items(1, 1));

      await connection('key-query', {
        auth: 'api-key',
        apiKey: 'k&2',
        apiKeyName: 'api_key',
        apiKeyIn: 'query',
      });
      secured((req) => req.url.searchParams.get('api_key') === 'k&2');
      expect((await load('key-query', { path: 'secured', query: { a: 1 } })).rows).toEqual(items(1, 1));
      // The key never shows in messages.
      secured(() => false);
      const refused = await load('key-query', { path: 'secured' });
      expect(refused.run.error).toMatch(/answered 401/);
      expect(refused.run.error).not.toContain('k&2');
      expect(refused.run.error).not.toContain('k%262');
    });

    it('a connection with auth basic and no password is refused when saved', async () => {
      await expect(connection('half', { auth: 'basic', username: 'ada' })).rejects.toThrow(
        /\/password is required for auth basic/,
      );
    });

    it('OAuth 2.0 client credentials: fetched once, cached, refreshed before expiry and on a 401', async () => {
      let issued = 0;
      const valid = new Set<string>();
      api.route('/oauth/token', (req, res) => {
        const form = new URLSearchParams(req.body);
        const creds = `Basic ${Buffer.from('client%2B1:s%C3%A9cret+x').toString('base64')}`;
        if (
          form.get('grant_type') !== 'client_credentials' ||
          req.headers['authorization'] !== creds ||
          form.get('scope') !== 'read'
        )
          return json(res, 401, { error: 'invalid_client' });
        const token = `t${++issued}`;
        valid.add(token);
        json(res, 200, { access_token: token, token_type: 'bearer', expires_in: 2 });
      });
      api.route('/protected', (req, res) => {
        const token = String(req.headers['authorization'] ?? '').replace(/^Bearer /, '');
        if (!valid.has(token)) return json(res, 401, { error: 'expired' });
        json(res, 200, [{ token }]);
      });
      await connection('oauth', {
        auth: 'oauth2',
        tokenUrl: `${api.url}/oauth/token`,
        clientId: 'client+1',
        clientSecret: 'sécret x',
        scope: 'read',
      });
      const first = await load('oauth', { path: 'protected' });
      expect(first.run.error).toBeNull();
      expect(first.rows).toEqual([{ token: 't1' }]);
      expect((await load('oauth', { path: 'protected' })).rows).toEqual([{ token: 't1' }]);
      expect(issued).toBe(1);
      // Two seconds of life, refreshed a second before the end.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await load('oauth', { path: 'protected' })).rows).toEqual([{ token: 't2' }]);
      // The API revokes the token early: one 401, a new token, the request again.
      valid.clear();
      expect((await load('oauth', { path: 'protected' })).rows).toEqual([{ token: 't3' }]);
      expect(issued).toBe(3);
      // A refused client fails the run with the token endpoint's answer.
      await connection('oauth-bad', {
        auth: 'oauth2',
        tokenUrl: `${api.url}/oauth/token`,
        clientId: 'x',
        clientSecret: 'y',
      });
      const bad = await load('oauth-bad', { path: 'protected' });
      expect(bad.run.error).toMatch(
        /OAuth token endpoint .*\/oauth\/token answered 401: \{"error":"invalid_client"\}/,
      );
      expect(bad.run.error).not.toContain('y"');
    });

    it('secrets are masked by the connections API and stored encrypted', async () => {
      const admin = await s.login('admin', 'admin-password-1');
      await putDefinition(s, admin, 'connections', 'all-secrets', {
        type: 'http',
        baseUrl: api.url,
        auth: 'oauth2',
        tokenUrl: `${api.url}/oauth/token`,
        clientId: 'c',
        clientSecret: 'client-secret-value',
        password: 'password-value',
        token: 'token-value',
        apiKey: 'api-key-value',
      });
      const one = await s.app.inject({
        method: 'GET',
        url: '/rest/v1/connections/all-secrets',
        headers: admin,
      });
      const list = await s.app.inject({ method: 'GET', url: '/rest/v1/connections', headers: admin });
      const exported = await s.app.inject({ method: 'GET', url: '/rest/v1/export', headers: admin });
      for (const body of [one.body, list.body, exported.body]) {
        for (const secret of ['client-secret-value', 'password-value', 'token-value', 'api-key-value'])
          expect(body).not.toContain(secret);
      }
      expect(one.json()).toMatchObject({
        clientSecret: '********',
        password: '********',
        token: '********',
        apiKey: '********',
      });
      const row = await s.ctx.store.db
        .selectFrom('definitions')
        .select(['spec', 'secrets'])
        .where('name', '=', 'all-secrets')
        .executeTakeFirstOrThrow();
      expect(`${row.spec}${row.secrets}`).not.toContain('client-secret-value');
    });
  });

  it('check asks the probe path: non-5xx passes, 5xx and refused credentials fail; discover is empty', async () => {
    const admin = await s.login('admin', 'admin-password-1');
    api.route('/health', (_req, res) => json(res, 404, {}));
    await connection('probe', { checkPath: 'health' });
    const test = (name: string) =>
      s.app
        .inject({ method: 'POST', url: `/rest/v1/connections/${name}/test`, headers: admin })
        .then((r) => r.json<{ ok: boolean; message: string }>());
    expect(await test('probe')).toMatchObject({ ok: true });
    api.route('/health', (_req, res) => json(res, 500, {}));
    await connection('probe', { checkPath: 'health', retries: 0 });
    expect(await test('probe')).toMatchObject({ ok: false, message: expect.stringMatching(/answered 500/) });
    await connection('probe', { checkPath: 'secured', auth: 'bearer', token: 'wrong' });
    api.route('/secured', (_req, res) => json(res, 401, {}));
    expect(await test('probe')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/401 \(the credentials are refused\)/),
    });
    await s.ctx.definitions.put(
      'connection',
      'nowhere',
      { type: 'http', baseUrl: 'http://127.0.0.1:1', retries: 0 },
      by,
    );
    expect(await test('nowhere')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    const tables = await s.app.inject({
      method: 'GET',
      url: '/rest/v1/connections/probe/tables',
      headers: admin,
    });
    expect(tables.json()).toEqual([]);
  });
});
