import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';
import { maxOverlap, waitFor } from './helpers.js';

let s: TestServer;
let auth: { authorization: string };
let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;

async function put(kind: string, name: string, body: Record<string, unknown>): Promise<void> {
  const res = await s.app.inject({
    method: 'PUT',
    url: `/rest/v1/${kind}/${name}`,
    headers: auth,
    payload: body,
  });
  if (res.statusCode >= 300) throw new Error(`PUT ${kind}/${name}: ${res.body}`);
}

async function runAsync(flow: string, query = ''): Promise<string> {
  const res = await s.app.inject({
    method: 'POST',
    url: `/rest/v1/flows/flow-name/${flow}/run?async=true${query}`,
    headers: auth,
  });
  expect(res.statusCode).toBe(202);
  return res.json<{ runId: string }>().runId;
}

async function getRun(id: string): Promise<Run> {
  return (await s.app.inject({ method: 'GET', url: `/rest/v1/runs/${id}`, headers: auth })).json<Run>();
}

const finished = (id: string, timeoutMs = 20_000) =>
  waitFor(
    `run ${id} to finish`,
    async () => {
      const r = await getRun(id);
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
    },
    timeoutMs,
  );

beforeAll(async () => {
  pgdb = await createPgDatabase('queue');
  s = await createTestServer({ env: { INTEGRATOR_WORKERS: '6' } });
  auth = await s.login('admin', 'admin-password-1');
  await put('connections', 'pg', { type: 'postgres', url: pgdb.url });
  await put('flows', 'make-table', { type: 'sql', connection: 'pg', sql: 'create table hits (n int)' });
  await s.app.inject({ method: 'POST', url: '/rest/v1/flows/flow-name/make-table/run', headers: auth });
  await put('flows', 'hit', { type: 'sql', connection: 'pg', sql: 'insert into hits values (1)' });
  await put('flows', 'slow', {
    type: 'sql',
    connection: 'pg',
    sql: 'select pg_sleep(0.3)',
    concurrency: 2,
  });
  await put('flows', 'broken', {
    type: 'sql',
    connection: 'pg',
    sql: 'select * from no_such_table',
    retry: { attempts: 3, delay: 1 },
  });
  await put('flows', 'sleepy', { type: 'sql', connection: 'pg', sql: 'select pg_sleep(10)', timeout: 1 });
});

afterAll(async () => {
  await s?.close();
  await pgdb?.drop();
});

describe('embedded run queue', () => {
  it('runs an async request once, in the background', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => runAsync('hit')));
    const runs = await Promise.all(ids.map((id) => finished(id)));
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    const stats = await s.app.inject({ method: 'GET', url: '/rest/v1/runs/stats', headers: auth });
    expect(stats.json()).toMatchObject({ transport: 'embedded', queued: 0, running: 0 });
    expect(stats.json<{ succeeded: number }>().succeeded).toBeGreaterThanOrEqual(20);
  });

  it('never runs more of a flow at once than its concurrency allows', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => runAsync('slow')));
    const runs = await Promise.all(ids.map((id) => finished(id)));
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect(maxOverlap(runs)).toBe(2);
  });

  it('starts queued runs one at a time while listener calls take the CPU', async () => {
    await put('flows', 'nap', { type: 'sql', connection: 'pg', sql: 'select pg_sleep(0.2)' });
    // The gauge says busy (as it does under a burst of listener calls with a busy event loop).
    Object.defineProperty(s.ctx.calls, 'busy', { get: () => true, configurable: true });
    try {
      const ids = await Promise.all(Array.from({ length: 4 }, () => runAsync('nap')));
      const runs = await Promise.all(ids.map((id) => finished(id)));
      expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
      expect(maxOverlap(runs)).toBe(1);
    } finally {
      Reflect.deleteProperty(s.ctx.calls, 'busy');
    }
    const ids = await Promise.all(Array.from({ length: 4 }, () => runAsync('nap')));
    expect(maxOverlap(await Promise.all(ids.map((id) => finished(id))))).toBeGreaterThan(1);
  });

  it('retries a failed run with exponential backoff, then fails it', async () => {
    const id = await runAsync('broken');
    const run = await finished(id);
    expect(run).toMatchObject({ status: 'failed', attempt: 3 });
    expect(run.error).toMatch(/no_such_table/);
    const retries = run.log.filter((l) => l.message.includes('retrying in'));
    expect(retries.map((l) => l.message.replace(/.*retrying in /, ''))).toEqual(['1 s', '2 s']);
    const gap = Date.parse(run.finishedAt ?? '') - Date.parse(run.createdAt);
    expect(gap).toBeGreaterThanOrEqual(3000);
  });

  it('shows no error on a run whose retry succeeded', async () => {
    await put('flows', 'late', {
      type: 'sql',
      connection: 'pg',
      sql: 'select * from late_table',
      retry: { attempts: 3, delay: 1 },
    });
    const id = await runAsync('late');
    await waitFor('the first attempt to fail', async () => {
      const r = await getRun(id);
      return r.attempt === 2 && r.error?.includes('late_table') ? r : undefined;
    });
    const c = new pg.Client({ connectionString: pgdb.url });
    await c.connect();
    await c.query('create table late_table (n int)');
    await c.end();
    const run = await finished(id);
    expect(run).toMatchObject({ status: 'succeeded', attempt: 2, error: null });
  });

  it('fails a run that exceeds its timeout', async () => {
    const run = await finished(await runAsync('sleepy'));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/timed out after 1 second/);
  });

  it('cancels queued and running runs', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => runAsync('slow')));
    const [first, , , last] = ids;
    for (const id of [first, last]) {
      const res = await s.app.inject({ method: 'POST', url: `/rest/v1/runs/${id}/cancel`, headers: auth });
      expect(res.statusCode).toBe(202);
    }
    expect((await finished(first ?? '')).status).toBe('cancelled');
    expect((await finished(last ?? '')).status).toBe('cancelled');
  });

  it('reports queue metrics', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/integrator_queue_depth \d+/);
    expect(res.body).toMatch(/integrator_runs\{status="succeeded"\} \d+/);
    expect(res.body).toMatch(/integrator_run_duration_seconds_bucket/);
  });
});
