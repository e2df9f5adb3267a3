/**
 * PostgreSQL backends terminated for real while a server process moves data through them, on every
 * transfer path (CSV to COPY, COPY out to CSV, COPY to COPY, cursor rows to COPY): the run fails naming
 * the lost connection, the target holds no partial rows, and the process keeps serving.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';
import { createPgDatabase } from '../services.js';
import { finished, PROBE, startRun, terminatePgBackends, writeCsv } from './helpers.js';

const PASSWORD = 'faults-admin-pw';
const ROWS = 1_500_000;
let dataDir: string;
let proc: ServerProcess;
let call: Awaited<ReturnType<typeof apiClient>>['call'];
let src: Awaited<ReturnType<typeof createPgDatabase>>;
let dst: Awaited<ReturnType<typeof createPgDatabase>>;
let store: Awaited<ReturnType<typeof createPgDatabase>>;
let dstPool: pg.Pool;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'integrator-faults-pg-'));
  mkdirSync(join(dataDir, 'files'));
  [src, dst, store] = await Promise.all([
    createPgDatabase('fault_src'),
    createPgDatabase('fault_dst'),
    createPgDatabase('fault_store'),
  ]);
  const s = new pg.Client({ connectionString: src.url });
  await s.connect();
  await s.query('create table big (id bigint primary key, name text, amount numeric)');
  await s.query(`insert into big select g, 'name ' || g, g + 0.25 from generate_series(1, ${ROWS}) g`);
  await s.end();
  dstPool = new pg.Pool({ connectionString: dst.url, application_name: PROBE });
  await writeCsv(join(dataDir, 'files', 'big.csv'), ROWS);
  proc = await startProcess(
    'all',
    { INTEGRATOR_ADMIN_PASSWORD: PASSWORD, INTEGRATOR_DATABASE_URL: store.url },
    dataDir,
  );
  ({ call } = await apiClient(proc.url, PASSWORD));
  const put = async (kind: string, name: string, spec: unknown) => {
    const res = await call('PUT', `/rest/v1/${kind}/${name}`, spec);
    if (res.status >= 300) throw new Error(`${kind} ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await put('connections', 'src', { type: 'postgres', url: src.url });
  await put('connections', 'dst', { type: 'postgres', url: dst.url });
  await put('connections', 'files', { type: 'files', root: 'files' });
  const transfer = (from: unknown, to: unknown, transforms?: unknown) => ({
    type: 'transfer',
    steps: [{ from, to, ...(transforms ? { transforms } : {}) }],
  });
  await put(
    'flows',
    'csv-to-pg',
    transfer({ connection: 'files', file: 'big.csv' }, { connection: 'dst', table: 'loaded' }),
  );
  await put(
    'flows',
    'pg-to-csv',
    transfer({ connection: 'src', table: 'big' }, { connection: 'files', file: 'out.csv', mode: 'replace' }),
  );
  // The source sleeps a little per row, so the copy is still running when its backend is terminated
  // however slow the machine is (a copy that finished first would prove nothing).
  await put(
    'flows',
    'pg-to-pg',
    transfer(
      { connection: 'src', query: 'select * from big where pg_sleep(0.00002) is not null' },
      { connection: 'dst', table: 'copied' },
    ),
  );
  await put(
    'flows',
    'pg-rows',
    transfer({ connection: 'src', query: 'select * from big' }, { connection: 'dst', table: 'filtered' }, [
      { type: 'filter', where: 'id > 0' },
    ]),
  );
  await put(
    'flows',
    'small',
    transfer(
      { connection: 'src', query: 'select id, name from big where id <= 3' },
      { connection: 'dst', table: 'small', mode: 'replace' },
    ),
  );
}, 180_000);

afterAll(async () => {
  await proc?.kill('SIGTERM');
  await dstPool?.end();
  await Promise.all([src?.drop(), dst?.drop(), store?.drop()]);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function tableRows(table: string): Promise<number | undefined> {
  const { rows } = await dstPool.query<{ t: string | null }>('select to_regclass($1)::text t', [table]);
  if (!rows[0]?.t) return undefined;
  return (await dstPool.query<{ n: number }>(`select count(*)::int n from ${table}`)).rows[0]?.n;
}

/** The process is alive, answers /healthz, and runs another flow to success. */
async function stillServing(): Promise<void> {
  expect(proc.proc.exitCode, proc.output()).toBeNull();
  const health = await fetch(`${proc.url}/healthz`);
  expect(health.status).toBe(200);
  const run = await finished(call, await startRun(call, 'small'));
  expect(run.status, run.error ?? '').toBe('succeeded');
  expect(run.rowsWritten).toBe(3);
}

describe('terminated PostgreSQL backends fail only the run', () => {
  it('CSV file into COPY FROM STDIN: target backend terminated', async () => {
    const id = await startRun(call, 'csv-to-pg');
    await terminatePgBackends(dst.name, '^copy ');
    const run = await finished(call, id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.path).toBe('copy');
    expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
    expect(await tableRows('loaded')).toBeUndefined();
    await stillServing();
  });

  it('COPY TO STDOUT into a CSV file: source backend terminated', async () => {
    const id = await startRun(call, 'pg-to-csv');
    await terminatePgBackends(src.name, '^copy ');
    const run = await finished(call, id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.path).toBe('copy');
    expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
    expect(existsSync(join(dataDir, 'files', 'out.csv'))).toBe(false);
    expect(readdirSync(join(dataDir, 'files')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await stillServing();
  });

  for (const side of ['target', 'source'] as const) {
    it(`COPY to COPY between databases: ${side} backend terminated`, async () => {
      const id = await startRun(call, 'pg-to-pg');
      await terminatePgBackends(side === 'target' ? dst.name : src.name, '^copy ');
      const run = await finished(call, id);
      // A success here would have to be a complete copy; say what landed if it ever happens.
      expect(run.status, `${run.status}: ${await tableRows('copied')} rows landed`).toBe('failed');
      expect(run.steps[0]?.path).toBe('copy');
      expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
      expect(await tableRows('copied')).toBeUndefined();
      await stillServing();
    });

    it(`cursor rows into a COPY writer: ${side} backend terminated`, async () => {
      const id = await startRun(call, 'pg-rows');
      await terminatePgBackends(
        side === 'target' ? dst.name : src.name,
        side === 'target' ? '^copy ' : '^select ',
      );
      const run = await finished(call, id);
      expect(run.status).toBe('failed');
      expect(run.steps[0]?.path).toBe('rows');
      expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
      expect(await tableRows('filtered')).toBeUndefined();
      await stillServing();
    });
  }

  it('idle pooled connections terminated (connections and the metadata store) are replaced', async () => {
    await stillServing();
    for (const db of [src.name, dst.name, store.name]) await terminatePgBackends(db, '', 0, 'idle');
    await stillServing();
  });
});
