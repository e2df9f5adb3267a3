/**
 * The http connection as a destination, through the real server and flow engine, against a real HTTP
 * server: a request per record and per batch (JSON, NDJSON, CSV), templates from fields, the
 * idempotency header, success rules, retries, and what a failed step leaves sent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { json, startTestApi, type TestApi } from './http-test-api.js';

const by = { name: 'test' };

describe('http connection as a destination', () => {
  let s: TestServer;
  let api: TestApi;
  let n = 0;
  const run = (flow: string, params: Record<string, string> = {}): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params, trigger: 'api', requestedBy: 'test' });
  async function send(
    request: Record<string, unknown>,
    to: Record<string, unknown> = {},
    params: Record<string, string> = {},
  ) {
    const flow = `send${++n}`;
    await s.ctx.definitions.put(
      'flow',
      flow,
      {
        type: 'transfer',
        steps: [
          { from: { connection: 'files', file: 'records.json' }, to: { connection: 'api', request, ...to } },
        ],
      },
      by,
    );
    return run(flow, params);
  }

  beforeAll(async () => {
    s = await createTestServer();
    api = await startTestApi();
    mkdirSync(join(s.dataDir, 'files'), { recursive: true });
    writeFileSync(
      join(s.dataDir, 'files', 'records.json'),
      '[{"id": 1, "name": "a/b c", "amount": 12345678901234567890.123456789},' +
        ' {"id": 2, "name": "x&y", "amount": 1.5}, {"id": 3, "name": "z", "amount": 2},' +
        ' {"id": 4, "name": "w", "amount": 3}, {"id": 5, "name": "v", "amount": 4}]',
    );
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
    await s.ctx.definitions.put(
      'connection',
      'api',
      {
        type: 'http',
        baseUrl: `${api.url}/v1`,
        headers: { 'X-Client': 'integrator-test' },
        retryDelay: 0.01,
      },
      by,
    );
  });
  afterAll(async () => {
    await s.close();
    await api.close();
  });

  it('sends one request per record: URL from fields, the record as JSON with every digit, an idempotency key', async () => {
    api.route('/v1/items/1', (_req, res) => json(res, 201, {}));
    for (const id of [2, 3, 4, 5]) api.route(`/v1/items/${id}`, (_req, res) => json(res, 200, {}));
    const r = await send(
      {
        method: 'PUT',
        path: 'items/{id}',
        query: { name: '{name}', src: '{source}' },
        send: 'record',
        idempotencyKey: '{run_id}-{record}',
      },
      {},
      { source: 'night run' },
    );
    expect(r.error).toBeNull();
    expect(r.steps[0]).toMatchObject({ rowsRead: 5, rowsWritten: 5 });
    const seen = api.seen.filter((x) => x.url.pathname.startsWith('/v1/items/'));
    expect(seen.map((x) => x.method)).toEqual(['PUT', 'PUT', 'PUT', 'PUT', 'PUT']);
    expect(seen.map((x) => x.url.searchParams.get('name'))).toEqual(['a/b c', 'x&y', 'z', 'w', 'v']);
    expect(seen[0]?.url.searchParams.get('src')).toBe('night run');
    expect(seen[0]?.body).toBe('{"id":1,"name":"a/b c","amount":12345678901234567890.123456789}');
    expect(seen.map((x) => x.headers['idempotency-key'])).toEqual([1, 2, 3, 4, 5].map((i) => `${r.id}-${i}`));
    expect(seen[0]?.headers['x-client']).toBe('integrator-test');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
  });

  it('sends batches as a JSON array, NDJSON or CSV', async () => {
    const bodies: { type: string; body: string; key: unknown }[] = [];
    api.route('/v1/bulk', (req, res) => {
      bodies.push({ type: String(req.headers['content-type']), body: req.body, key: req.headers['x-batch'] });
      json(res, 202, {});
    });
    const jsonRun = await send({
      path: 'bulk',
      batchSize: 2,
      idempotencyKey: 'b{batch}-r{record}',
      idempotencyHeader: 'X-Batch',
    });
    expect(jsonRun.error).toBeNull();
    expect(bodies.map((b) => b.key)).toEqual(['b1-r1', 'b2-r3', 'b3-r5']);
    expect(JSON.parse(bodies[1]?.body ?? '')).toEqual([
      { id: 3, name: 'z', amount: 2 },
      { id: 4, name: 'w', amount: 3 },
    ]);
    bodies.length = 0;
    const nd = await send({ path: 'bulk', batchSize: 3 }, { format: { type: 'ndjson' } });
    expect(nd.error).toBeNull();
    expect(bodies.map((b) => b.type)).toEqual(['application/x-ndjson', 'application/x-ndjson']);
    expect(bodies[1]?.body).toBe('{"id":4,"name":"w","amount":3}\n{"id":5,"name":"v","amount":4}\n');
    bodies.length = 0;
    const csv = await send({ path: 'bulk', batchSize: 10 }, { format: { type: 'csv' } });
    expect(csv.error).toBeNull();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.type).toBe('text/csv');
    expect(bodies[0]?.body.split('\n').slice(0, 3)).toEqual([
      'id,name,amount',
      '1,a/b c,12345678901234567890.123456789',
      '2,x&y,1.5',
    ]);
  });

  it('a refused record fails the step naming it and what was sent before it, which stays sent', async () => {
    api.route('/v1/strict', (req, res) => {
      const rec = JSON.parse(req.body) as { id: number };
      if (rec.id === 3) return json(res, 422, { error: 'name too short' });
      json(res, 200, {});
    });
    const before = api.to('/v1/strict').length;
    const r = await send({ path: 'strict', send: 'record' });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /^record 3: POST http:\/\/127\.0\.0\.1:\d+\/v1\/strict answered 422: \{"error":"name too short"\}; records 1-2 were sent before it and stay sent$/,
    );
    expect(api.to('/v1/strict').length - before).toBe(3);
    const log = await s.ctx.runs.get(r.id);
    expect(JSON.stringify(log)).toContain('2 records were sent to the API before the failure and stay sent');
  });

  it('retries a 503 with the same idempotency key, and follows its success rule', async () => {
    let calls = 0;
    api.route('/v1/flaky', (_req, res) => {
      calls++;
      if (calls === 1) return json(res, 503, {}, { 'retry-after': '0' });
      json(res, 202, {});
    });
    const r = await send({ path: 'flaky', batchSize: 5, idempotencyKey: '{run_id}-{batch}', success: [202] });
    expect(r.error).toBeNull();
    const keys = api.to('/v1/flaky').map((x) => x.headers['idempotency-key']);
    expect(keys).toEqual([`${r.id}-1`, `${r.id}-1`]);
    // 200 is not in the rule: the step fails, nothing was sent before.
    api.route('/v1/only-202', (_req, res) => json(res, 200, {}));
    const strict = await send({ path: 'only-202', batchSize: 5, success: [202] });
    expect(strict.error).toMatch(
      /records 1-5 \(batch 1\): POST .*\/v1\/only-202 answered 200.*; nothing was sent before it$/,
    );
  });

  it('refuses modes that do not apply, and a field with a line break in a header', async () => {
    const r = await send({ path: 'x' }, { mode: 'replace' });
    expect(r.error).toMatch(/mode replace does not apply/);
    writeFileSync(join(s.dataDir, 'files', 'evil.json'), '[{"id": "1\\r\\nX-Evil: yes"}]');
    await s.ctx.definitions.put(
      'flow',
      'evil',
      {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'files', file: 'evil.json' },
            to: {
              connection: 'api',
              request: { path: 'items', send: 'record', headers: { 'X-Id': '{id}' } },
            },
          },
        ],
      },
      by,
    );
    const evil = await run('evil');
    expect(evil.error).toMatch(/'\{id\}' used in to\.request for record 1\.headers\.X-Id holds a line break/);
  });
});
