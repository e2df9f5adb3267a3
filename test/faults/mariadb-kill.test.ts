/**
 * MariaDB connections killed for real (KILL from another session) while a server process moves data
 * through them: LOAD DATA from a CSV file, and row streams into a file and into PostgreSQL. The run
 * fails naming the lost connection, the target holds no partial rows, and the process keeps serving.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';
import { createMariaDatabase, createPgDatabase, MARIADB_URL } from '../services.js';
import { finished, killMariaConnections, PROBE, startRun, writeCsv } from './helpers.js';

const PASSWORD = 'faults-admin-pw';
const ROWS = 1_000_000;
let dataDir: string;
let proc: ServerProcess;
let call: Awaited<ReturnType<typeof apiClient>>['call'];
let maria: Awaited<ReturnType<typeof createMariaDatabase>>;
let dst: Awaited<ReturnType<typeof createPgDatabase>>;
let mariaConn: mysql.Connection;
let dstPool: pg.Pool;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'integrator-faults-maria-'));
  mkdirSync(join(dataDir, 'files'));
  [maria, dst] = await Promise.all([createMariaDatabase('fault_m'), createPgDatabase('fault_mdst')]);
  // The test's own session stays on another database, so killing every connection to this one spares it.
  mariaConn = await mysql.createConnection(MARIADB_URL);
  await mariaConn.query(
    `create table \`${maria.name}\`.big (id bigint primary key, name text, amount decimal(12,2))`,
  );
  await mariaConn.query(
    `insert into \`${maria.name}\`.big select seq, concat('name ', seq), seq + 0.25 from seq_1_to_${ROWS}`,
  );
  dstPool = new pg.Pool({ connectionString: dst.url, application_name: PROBE });
  await writeCsv(join(dataDir, 'files', 'big.csv'), ROWS);
  proc = await startProcess('all', { INTEGRATOR_ADMIN_PASSWORD: PASSWORD }, dataDir);
  ({ call } = await apiClient(proc.url, PASSWORD));
  const put = async (kind: string, name: string, spec: unknown) => {
    const res = await call('PUT', `/rest/v1/${kind}/${name}`, spec);
    if (res.status >= 300) throw new Error(`${kind} ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await put('connections', 'maria', { type: 'mariadb', url: maria.url });
  await put('connections', 'dst', { type: 'postgres', url: dst.url });
  await put('connections', 'files', { type: 'files', root: 'files' });
  const transfer = (from: unknown, to: unknown) => ({ type: 'transfer', steps: [{ from, to }] });
  await put(
    'flows',
    'csv-to-maria',
    transfer({ connection: 'files', file: 'big.csv' }, { connection: 'maria', table: 'loaded' }),
  );
  await put(
    'flows',
    'maria-to-file',
    transfer(
      { connection: 'maria', table: 'big' },
      { connection: 'files', file: 'out.ndjson', mode: 'replace' },
    ),
  );
  await put(
    'flows',
    'maria-to-pg',
    transfer({ connection: 'maria', table: 'big' }, { connection: 'dst', table: 'copied' }),
  );
  await put(
    'flows',
    'small',
    transfer(
      { connection: 'maria', query: 'select id, name from big where id <= 3' },
      { connection: 'maria', table: 'small', mode: 'replace' },
    ),
  );
}, 180_000);

afterAll(async () => {
  await proc?.kill('SIGTERM');
  await mariaConn?.end();
  await dstPool?.end();
  await Promise.all([maria?.drop(), dst?.drop()]);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function mariaRows(table: string): Promise<number | undefined> {
  const [t] = await mariaConn.query<mysql.RowDataPacket[]>(
    'select 1 from information_schema.tables where table_schema = ? and table_name = ?',
    [maria.name, table],
  );
  if (t.length === 0) return undefined;
  const [r] = await mariaConn.query<mysql.RowDataPacket[]>(
    `select count(*) n from \`${maria.name}\`.\`${table}\``,
  );
  return Number(r[0]?.n);
}

async function stillServing(): Promise<void> {
  expect(proc.proc.exitCode, proc.output()).toBeNull();
  expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
  const run = await finished(call, await startRun(call, 'small'));
  expect(run.status, run.error ?? '').toBe('succeeded');
  expect(run.rowsWritten).toBe(3);
}

describe('killed MariaDB connections fail only the run', () => {
  it('LOAD DATA LOCAL INFILE from a CSV file', async () => {
    const id = await startRun(call, 'csv-to-maria');
    await killMariaConnections(maria.name, /^LOAD DATA/);
    const run = await finished(call, id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.path).toBe('copy');
    expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
    expect(await mariaRows('loaded')).toBeUndefined();
    await stillServing();
  });

  it('a row stream into an NDJSON file', async () => {
    const id = await startRun(call, 'maria-to-file');
    await killMariaConnections(maria.name, /^select/i);
    const run = await finished(call, id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.path).toBe('rows');
    expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
    expect(existsSync(join(dataDir, 'files', 'out.ndjson'))).toBe(false);
    expect(readdirSync(join(dataDir, 'files')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await stillServing();
  });

  it('a row stream into PostgreSQL', async () => {
    const id = await startRun(call, 'maria-to-pg');
    await killMariaConnections(maria.name, /^select/i);
    const run = await finished(call, id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.path).toBe('rows');
    expect(run.error, run.error ?? '').toMatch(/connection to the database was lost/);
    const { rows } = await dstPool.query<{ t: string | null }>("select to_regclass('copied')::text t");
    expect(rows[0]?.t).toBeNull();
    await stillServing();
  });
});
