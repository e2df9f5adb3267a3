/**
 * A real cluster on this machine: PostgreSQL store, BullMQ on Redis, two api processes (both run the
 * scheduler) and two workers, started as `integrator start --role …`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';
import { maxOverlap, sleep, waitFor } from '../runs/helpers.js';
import { createPgDatabase } from '../services.js';

const PASSWORD = 'cluster-admin-pw';
let store: Awaited<ReturnType<typeof createPgDatabase>>;
let data: Awaited<ReturnType<typeof createPgDatabase>>;
let dataDb: pg.Pool;
const procs: ServerProcess[] = [];
let api1: ServerProcess;
let api2: ServerProcess;
let workers: ServerProcess[] = [];
let client: Awaited<ReturnType<typeof apiClient>>;

async function count(sql: string): Promise<number> {
  const r = await dataDb.query<{ n: string }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

async function storeRows<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: store.url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

async function runAsync(flow: string, query = ''): Promise<string> {
  const r = await client.call<{ runId: string }>(
    'POST',
    `/rest/v1/flows/flow-name/${flow}/run?async=true${query}`,
  );
  if (r.status !== 202) throw new Error(`enqueue ${flow}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.runId;
}

const run = async (id: string) => (await client.call<Run>('GET', `/rest/v1/runs/${id}`)).body;

beforeAll(async () => {
  store = await createPgDatabase('cluster');
  data = await createPgDatabase('clusterdata');
  dataDb = new pg.Pool({ connectionString: data.url });
  await dataDb.query('create table hits (n int not null)');
  await dataDb.query('create table ticks (at timestamptz not null default now())');
  const env = {
    INTEGRATOR_DATABASE_URL: store.url,
    INTEGRATOR_REDIS_URL: 'redis://127.0.0.1:6379',
    INTEGRATOR_QUEUE_PREFIX: `it-${randomBytes(4).toString('hex')}`,
    INTEGRATOR_SECRET: 'cluster-test-secret-0123456789-abcdefghij',
    INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
    INTEGRATOR_WORKERS: '8',
    INTEGRATOR_RUN_LEASE: '3',
  };
  api1 = await startProcess('api', env);
  procs.push(api1);
  [api2, ...workers] = await Promise.all([
    startProcess('api', env),
    startProcess('worker', env),
    startProcess('worker', env),
  ]);
  procs.push(api2, ...workers);
  client = await apiClient(api1.url, PASSWORD);
  await client.call('PUT', '/rest/v1/connections/data', { type: 'postgres', url: data.url });
  await client.call('PUT', '/rest/v1/flows/hit', {
    type: 'sql',
    connection: 'data',
    sql: 'insert into hits (n) values ({n})',
    parameters: { n: { type: 'integer' } },
  });
  await client.call('PUT', '/rest/v1/flows/limited', {
    type: 'sql',
    connection: 'data',
    sql: 'select pg_sleep(0.2)',
    concurrency: 3,
  });
  await client.call('PUT', '/rest/v1/flows/long', {
    type: 'sql',
    connection: 'data',
    sql: 'select pg_sleep(2)',
    retry: { attempts: 2, delay: 0 },
  });
  await client.call('PUT', '/rest/v1/flows/tick', {
    type: 'sql',
    connection: 'data',
    sql: 'insert into ticks default values',
  });
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  await dataDb?.end();
  await data?.drop();
  await store?.drop();
}, 60_000);

describe('cluster: 2 api + 2 worker processes on PostgreSQL and Redis', () => {
  it('accepts a token issued by one api process on another', async () => {
    const r = await fetch(`${api2.url}/rest/v1/me`, { headers: { authorization: `Bearer ${client.token}` } });
    expect(r.status).toBe(200);
    // Workers serve probes and metrics only.
    expect((await fetch(`${workers[0]?.url}/rest/v1/me`)).status).toBe(404);
    expect((await fetch(`${workers[0]?.url}/metrics`)).status).toBe(200);
  });

  it('executes each of 500 async runs exactly once, spread over both workers', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 500; i += 25) {
      ids.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => runAsync('hit', `&n=${i + j}`)))));
    }
    expect(new Set(ids).size).toBe(500);
    await waitFor(
      '500 rows',
      async () => ((await count('select count(*) n from hits')) >= 500 ? true : undefined),
      60_000,
    );
    await sleep(500);
    expect(await count('select count(*) n from hits')).toBe(500);
    expect(await count('select count(distinct n) n from hits')).toBe(500);
    const byWorker = await storeRows<{ worker: string; n: string }>(
      "select worker, count(*) n from runs where flow = 'hit' and status = 'succeeded' group by worker",
    );
    expect(byWorker).toHaveLength(2);
    expect(byWorker.reduce((n, r) => n + Number(r.n), 0)).toBe(500);
    const stats = await client.call<{ transport: string; queued: number }>('GET', '/rest/v1/runs/stats');
    expect(stats.body).toMatchObject({ transport: 'bullmq', queued: 0 });
  }, 90_000);

  it('never runs more of a flow at once than its concurrency, across workers', async () => {
    const ids = await Promise.all(Array.from({ length: 18 }, () => runAsync('limited')));
    const runs = await Promise.all(
      ids.map((id) =>
        waitFor(`run ${id}`, async () => ((await run(id)).finishedAt ? run(id) : undefined), 30_000),
      ),
    );
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect(maxOverlap(runs)).toBeLessThanOrEqual(3);
    expect(maxOverlap(runs)).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('fires a schedule once per tick with two schedulers running', async () => {
    await client.call('PUT', '/rest/v1/schedules/every-second', {
      flow: 'tick',
      cron: '* * * * * *',
      overlap: 'allow',
    });
    // The window is measured between the two calls, so slow requests on a loaded machine do not count.
    const started = Date.now();
    await sleep(5000);
    const elapsed = Math.ceil((Date.now() - started) / 1000);
    await client.call('DELETE', '/rest/v1/schedules/every-second');
    const fires = await waitFor(
      'the fired runs to finish',
      async () => {
        const f = await storeRows<{ fire_time: string; run_id: string }>(
          "select fire_time, run_id from schedule_fires where schedule = 'every-second' order by fire_time",
        );
        const open = (
          await storeRows<{ n: string }>(
            "select count(*) n from runs where schedule = 'every-second' and status in ('queued', 'running')",
          )
        )[0]?.n;
        return Number(open) === 0 ? f : undefined;
      },
      20_000,
    );
    const runs = await storeRows<{ id: string }>("select id from runs where schedule = 'every-second'");
    // Never more than one fire per tick (two schedulers run), and it kept firing while it existed.
    expect(fires.length).toBeGreaterThanOrEqual(2);
    expect(fires.length).toBeLessThanOrEqual(elapsed + 2);
    expect(new Set(fires.map((f) => f.fire_time)).size).toBe(fires.length);
    expect(runs).toHaveLength(fires.length);
    expect(new Set(fires.map((f) => f.run_id)).size).toBe(fires.length);
    expect(await count('select count(*) n from ticks')).toBe(fires.length);
  }, 45_000);

  it('finishes the run of a worker killed mid-run on the other worker', async () => {
    const id = await runAsync('long');
    const running = await waitFor('the run to start', async () => {
      const r = await storeRows<{ worker: string }>(
        "select worker from runs where id = $1 and status = 'running'",
        [id],
      );
      return r[0];
    });
    const victim = workers.find((w) => running.worker.endsWith(`:${w.pid}`));
    expect(victim).toBeDefined();
    await victim?.kill('SIGKILL');
    const done = await waitFor(
      'the run to finish elsewhere',
      async () => {
        const r = await run(id);
        return r.finishedAt ? r : undefined;
      },
      30_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(2);
    const [after] = await storeRows<{ worker: string }>('select worker from runs where id = $1', [id]);
    expect(after?.worker).not.toBe(running.worker);
  }, 45_000);
});
