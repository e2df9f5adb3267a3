/**
 * An http destination's answers kept (`to.responses`), through the real server and flow engine, against
 * a real HTTP server: one row per request into a SQLite table of results (status, headers, the body as
 * exact JSON or text), per record and per batch, rolled back with a failed step; into a listener's
 * `@response`; and the flow settings that cannot work refused when saved.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { json, startTestApi, type TestApi } from './http-test-api.js';

const by = { name: 'test' };

describe('http destination answers kept as rows', () => {
  let s: TestServer;
  let api: TestApi;
  let n = 0;
  const run = (flow: string): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params: {}, trigger: 'api', requestedBy: 'test' });
  const results = (table: string) => {
    const db = new Database(join(s.dataDir, 'files', 'results.db'), { readonly: true });
    try {
      const exists = db.prepare('select name from sqlite_master where name = ?').get(table);
      return exists
        ? (db.prepare(`select * from ${table} order by record`).all() as Record<string, unknown>[])
        : undefined;
    } finally {
      db.close();
    }
  };
  async function send(to: Record<string, unknown>): Promise<Run> {
    const flow = `answers${++n}`;
    await s.ctx.definitions.put(
      'flow',
      flow,
      { type: 'transfer', steps: [{ from: { connection: 'files', file: 'records.json' }, to }] },
      by,
    );
    return run(flow);
  }

  beforeAll(async () => {
    s = await createTestServer();
    api = await startTestApi();
    mkdirSync(join(s.dataDir, 'files'), { recursive: true });
    writeFileSync(
      join(s.dataDir, 'files', 'records.json'),
      JSON.stringify([1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}` }))),
    );
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
    await s.ctx.definitions.put('connection', 'results', { type: 'sqlite', path: 'files/results.db' }, by);
    await s.ctx.definitions.put(
      'connection',
      'api',
      { type: 'http', baseUrl: api.url, retryDelay: 0.01, retries: 1 },
      by,
    );
  });
  afterAll(async () => {
    await s.close();
    await api.close();
  });

  it('writes one row per request: record, status, the headers asked for, the body as exact JSON', async () => {
    api.route('/orders', (req, res) => {
      const rec = JSON.parse(req.body) as { id: number };
      // A decimal no double holds: it must land with every digit.
      res.writeHead(rec.id === 2 ? 200 : 201, {
        'content-type': 'application/json',
        location: `/orders/${rec.id}`,
        'x-request-id': `rq-${rec.id}`,
      });
      res.end(`{"order": ${rec.id}, "total": 12345678901234567890.125}`);
    });
    const r = await send({
      connection: 'api',
      request: { path: 'orders', send: 'record' },
      responses: { connection: 'results', table: 'per_record', headers: ['Location', 'X-Request-Id'] },
    });
    expect(r.error).toBeNull();
    expect(r.steps[0]).toMatchObject({ rowsRead: 5, rowsWritten: 5 });
    const rows = results('per_record');
    expect(rows).toHaveLength(5);
    expect(rows?.[0]).toEqual({
      record: 1,
      records: 1,
      status: 201,
      location: '/orders/1',
      'x-request-id': 'rq-1',
      body: '{"order":1,"total":12345678901234567890.125}',
    });
    expect(rows?.map((x) => x['status'])).toEqual([201, 200, 201, 201, 201]);
    expect(rows?.map((x) => x['location'])).toEqual([1, 2, 3, 4, 5].map((i) => `/orders/${i}`));
  });

  it('per batch: each row names its first record and how many it carried; text bodies and none', async () => {
    api.route('/bulk', (req, res) => {
      res.writeHead(202, { 'content-type': 'text/plain' });
      res.end(`took ${(JSON.parse(req.body) as unknown[]).length}`);
    });
    const r = await send({
      connection: 'api',
      request: { path: 'bulk', send: 'batch', batchSize: 2 },
      responses: { connection: 'results', table: 'per_batch', body: 'text' },
    });
    expect(r.error).toBeNull();
    expect(results('per_batch')).toEqual([
      { record: 1, records: 2, status: 202, body: 'took 2' },
      { record: 3, records: 2, status: 202, body: 'took 2' },
      { record: 5, records: 1, status: 202, body: 'took 1' },
    ]);
    const bare = await send({
      connection: 'api',
      request: { path: 'bulk', batchSize: 5 },
      responses: { connection: 'results', table: 'no_body', body: 'none' },
    });
    expect(bare.error).toBeNull();
    expect(results('no_body')).toEqual([{ record: 1, records: 5, status: 202 }]);
  });

  it('a failed step rolls the results back; the log says what the API took', async () => {
    api.route('/picky', (req, res) => {
      const rec = JSON.parse(req.body) as { id: number };
      json(res, rec.id === 4 ? 422 : 200, rec.id === 4 ? { error: 'no 4s' } : { ok: rec.id });
    });
    const r = await send({
      connection: 'api',
      request: { path: 'picky', send: 'record' },
      responses: { connection: 'results', table: 'picky' },
    });
    expect(r.status).toBe('failed');
    expect(r.error).toContain('record 4');
    expect(r.error).toContain('records 1-3 were sent before it and stay sent');
    // Created and filled inside the write's transaction: nothing of it stays.
    expect(results('picky')).toBeUndefined();
    const logs = (await s.ctx.runs.get(r.id))?.log ?? [];
    expect(logs.map((l) => l.message).join('\n')).toContain('3 records were sent to the API');
  });

  it('a body that is not JSON fails the step naming the request, and says the API took it', async () => {
    api.route('/plain', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
    });
    const r = await send({
      connection: 'api',
      request: { path: 'plain', send: 'record' },
      responses: { connection: 'results', table: 'plain' },
    });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /record 1: POST http:\/\/127\.0\.0\.1:\d+\/plain answered 200 with a body that is not JSON/,
    );
    expect(r.error).toContain('record 1 were sent before it');
    expect(results('plain')).toBeUndefined();
    expect(api.to('/plain')).toHaveLength(1);
  });

  it('a results destination that cannot open sends nothing; one that fails stops the requests', async () => {
    api.route('/never', (_req, res) => json(res, 200, {}));
    const r = await send({
      connection: 'api',
      request: { path: 'never', send: 'record' },
      responses: { connection: 'files', file: 'answers.unknown' },
    });
    expect(r.status).toBe('failed');
    expect(r.error).toContain('to.responses.format is required');
    expect(api.to('/never')).toHaveLength(0);

    const db = new Database(join(s.dataDir, 'files', 'results.db'));
    db.exec(
      'create table strict_results (record integer, records integer, status integer, body text, must text not null)',
    );
    db.close();
    api.route('/stopped', (_req, res) => json(res, 200, { ok: true }));
    const stopped = await send({
      connection: 'api',
      request: { path: 'stopped', send: 'record' },
      responses: { connection: 'results', table: 'strict_results' },
    });
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toContain('steps[0].to.responses: ');
    expect(stopped.error).toMatch(/records? 1(-\d)? were sent before it and stay sent/);
    // The failure is seen at the next request's answer, not after all of them.
    expect(api.to('/stopped').length).toBeLessThan(5);
    expect(results('strict_results')).toEqual([]);
  });

  it('@response outside a listener call fails before any request', async () => {
    api.route('/unsent', (_req, res) => json(res, 200, {}));
    const r = await send({
      connection: 'api',
      request: { path: 'unsent', send: 'record' },
      responses: { connection: '@response' },
    });
    expect(r.status).toBe('failed');
    expect(r.error).toContain('steps[0].to.responses: @response is only available to a listener');
    expect(api.to('/unsent')).toHaveLength(0);
  });

  it("a listener answers with the API's answers (@response)", async () => {
    // The body as it came, so an integer no double holds must survive both ways.
    api.route('/echo', (req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', etag: '"v1"' });
      res.end(`{"got": ${req.body}}`);
    });
    await s.ctx.definitions.put(
      'flow',
      'forward',
      {
        type: 'transfer',
        steps: [
          {
            from: { connection: '@request' },
            to: {
              connection: 'api',
              request: { path: 'echo', send: 'record' },
              responses: { connection: '@response', headers: ['ETag'] },
            },
          },
        ],
      },
      by,
    );
    await s.ctx.definitions.put(
      'listener',
      'forward',
      { path: 'forward', methods: ['POST'], flow: 'forward' },
      by,
    );
    const admin = await s.login('admin', 'admin-password-1');
    const res = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/httplistener/forward',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '[{"sku": "a", "qty": 12345678901234567890}, {"sku": "b", "qty": 2}]',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body.replace(/\n/g, '')).toBe(
      '[{"record":1,"records":1,"status":201,"etag":"\\"v1\\"","body":{"got":{"sku":"a","qty":12345678901234567890}}},' +
        '{"record":2,"records":1,"status":201,"etag":"\\"v1\\"","body":{"got":{"sku":"b","qty":2}}}]',
    );
  });

  it('refuses responses without to.request, headers that collide, and an unknown connection', async () => {
    const put = (to: Record<string, unknown>) =>
      s.ctx.definitions.put(
        'flow',
        'bad-answers',
        { type: 'transfer', steps: [{ from: { connection: 'files', file: 'records.json' }, to }] },
        by,
      );
    await expect(
      put({ connection: 'results', table: 'x', responses: { connection: 'results', table: 'y' } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('to.request') });
    await expect(
      put({
        connection: 'api',
        request: { path: 'x' },
        responses: { connection: 'results', table: 'y', headers: ['Status'] },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining("'Status'") });
    await expect(
      put({ connection: 'api', request: { path: 'x' }, responses: { connection: 'nowhere', table: 'y' } }),
    ).rejects.toMatchObject({ code: 'REFERENCE_NOT_FOUND' });
  });
});
