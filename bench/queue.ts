/**
 * Queue throughput: trivial async runs (`select 1` on a SQLite connection) through real
 * `integrator start` processes, in embedded mode (one process, SQLite store) and in distributed mode
 * (PostgreSQL store, BullMQ on Redis, one api process and 1 or 2 worker processes).
 *
 *   node --import tsx bench/queue.ts            # BENCH_RUNS=1000 by default
 *
 * Reports runs/s (first enqueue to last finish) and enqueue-to-start latency p50/p99 from the runs'
 * own timestamps. Needs PostgreSQL and Redis on 127.0.0.1 (TEST_PG_URL to point elsewhere).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { percentiles } from '../src/runs/run-stats.js';
import { apiClient, type ServerProcess, startProcess } from '../test/helpers/processes.js';
import { createPgDatabase } from '../test/services.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const PARALLEL_REQUESTS = 32;
const PASSWORD = 'bench-admin-password';

interface Result {
  mode: string;
  runs: number;
  seconds: number;
  runsPerSecond: number;
  p50: number | null;
  p99: number | null;
}

async function measure(mode: string, api: ServerProcess, storeUrl: string | undefined): Promise<Result> {
  const client = await apiClient(api.url, PASSWORD);
  await client.call('PUT', '/rest/v1/connections/local', { type: 'sqlite', path: 'files/bench.db' });
  await client.call('PUT', '/rest/v1/flows/trivial', { type: 'sql', connection: 'local', sql: 'select 1' });
  const started = Date.now();
  let next = 0;
  const enqueue = async () => {
    while (next < RUNS) {
      next++;
      const r = await client.call('POST', '/rest/v1/flows/flow-name/trivial/run?async=true');
      if (r.status !== 202) throw new Error(`enqueue failed: ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_REQUESTS }, enqueue));
  const enqueued = Date.now();
  for (;;) {
    const s = await client.call<{ queued: number; running: number; succeeded: number; failed: number }>(
      'GET',
      '/rest/v1/runs/stats',
    );
    if (s.body.succeeded + s.body.failed >= RUNS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const rows = await runRows(api, client, storeUrl);
  const first = Math.min(...rows.map((r) => r.created));
  const last = Math.max(...rows.map((r) => r.finished));
  const lat = percentiles(rows.map((r) => r.started - r.created));
  const seconds = (last - first) / 1000;
  console.error(`${mode}: enqueued ${RUNS} in ${((enqueued - started) / 1000).toFixed(2)} s`);
  return {
    mode,
    runs: rows.length,
    seconds,
    runsPerSecond: rows.length / seconds,
    p50: lat.p50,
    p99: lat.p99,
  };
}

async function runRows(
  api: ServerProcess,
  client: Awaited<ReturnType<typeof apiClient>>,
  storeUrl: string | undefined,
): Promise<{ created: number; started: number; finished: number }[]> {
  type Row = { created_at: string; started_at: string; finished_at: string };
  let rows: Row[];
  if (storeUrl) {
    const c = new pg.Client({ connectionString: storeUrl });
    await c.connect();
    rows = (await c.query<Row>("select created_at, started_at, finished_at from runs where flow = 'trivial'"))
      .rows;
    await c.end();
  } else {
    // The embedded store belongs to the running process; its API lists at most 1000 runs per call.
    const out: Row[] = [];
    let to: string | undefined;
    for (;;) {
      const page = await client.call<{ createdAt: string; startedAt: string; finishedAt: string }[]>(
        'GET',
        `/rest/v1/runs?flow=trivial&limit=1000${to ? `&to=${encodeURIComponent(to)}` : ''}`,
      );
      out.push(
        ...page.body.map((r) => ({
          created_at: r.createdAt,
          started_at: r.startedAt,
          finished_at: r.finishedAt,
        })),
      );
      if (page.body.length < 1000) break;
      to = page.body.at(-1)?.createdAt;
    }
    rows = out;
  }
  void api;
  return rows.map((r) => ({
    created: Date.parse(r.created_at),
    started: Date.parse(r.started_at),
    finished: Date.parse(r.finished_at),
  }));
}

async function embedded(): Promise<Result> {
  const api = await startProcess('all', { INTEGRATOR_ADMIN_PASSWORD: PASSWORD, INTEGRATOR_WORKERS: '8' });
  try {
    return await measure('embedded (1 process, SQLite store)', api, undefined);
  } finally {
    await api.kill();
  }
}

async function distributed(workers: number): Promise<Result> {
  const store = await createPgDatabase('benchq');
  const env = {
    INTEGRATOR_DATABASE_URL: store.url,
    INTEGRATOR_REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    INTEGRATOR_QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    INTEGRATOR_SECRET: 'bench-secret-0123456789-abcdefghijklmnop',
    INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
    INTEGRATOR_WORKERS: '8',
  };
  const api = await startProcess('api', env);
  const ws = await Promise.all(Array.from({ length: workers }, () => startProcess('worker', env)));
  try {
    return await measure(`distributed (api + ${workers} worker${workers > 1 ? 's' : ''})`, api, store.url);
  } finally {
    await Promise.all([api, ...ws].map((p) => p.kill()));
    await store.drop();
  }
}

const results = [await embedded(), await distributed(1), await distributed(2)];
const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
console.log(`\nQueue throughput, ${RUNS} trivial async runs each\n`);
console.log('| Mode | Runs | Seconds | Runs/s | Enqueue→start p50 | p99 |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  console.log(
    `| ${r.mode} | ${r.runs} | ${r.seconds.toFixed(2)} | ${r.runsPerSecond.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} |`,
  );
}
