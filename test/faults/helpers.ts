/**
 * Real faults for the fault-injection suite: backends terminated on the machine's PostgreSQL and
 * connections killed on MariaDB while a server process moves data through them.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Run } from '../../src/runs/run-types.js';
import { sleep } from '../runs/helpers.js';
import { MARIADB_URL, PG_ADMIN_URL } from '../services.js';

/** Writes `rows` CSV lines `id,name,amount` (with a header) to `file`, honouring back-pressure. */
export async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,name,amount\n');
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    chunk += `${i},name ${i},${i}.25\n`;
    if (i % 10_000 === 0) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/**
 * Waits until a client backend of `database` runs a statement matching `query` (a POSIX regex, case
 * insensitive) in `state`, then terminates every backend of that database (the tests' own excepted).
 * Returns how many were terminated.
 */
export async function terminatePgBackends(
  database: string,
  query: string,
  timeoutMs = 30_000,
  state = 'active',
): Promise<number> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await admin.query<{ n: number }>(
        `select count(*)::int n from pg_stat_activity
          where datname = $1 and pid <> pg_backend_pid() and state = $3 and query ~* $2
            and application_name <> $4`,
        [database, query, state, PROBE],
      );
      if ((rows[0]?.n ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`no backend of ${database} ran /${query}/`);
      await sleep(20);
    }
    const { rows } = await admin.query<{ pid: number }>(
      `select pg_terminate_backend(pid), pid from pg_stat_activity
        where datname = $1 and pid <> pg_backend_pid() and application_name <> $2`,
      [database, PROBE],
    );
    return rows.length;
  } finally {
    await admin.end();
  }
}

/**
 * Waits until a connection to MariaDB `database` runs a statement matching `query` (a JS regex on
 * processlist.info), then kills every connection to that database.
 */
export async function killMariaConnections(
  database: string,
  query: RegExp,
  timeoutMs = 30_000,
): Promise<number> {
  const admin = await mysql.createConnection(MARIADB_URL);
  try {
    const deadline = Date.now() + timeoutMs;
    const list = async () =>
      (
        await admin.query<mysql.RowDataPacket[]>(
          'select id, info from information_schema.processlist where db = ? and id <> connection_id()',
          [database],
        )
      )[0];
    for (;;) {
      if ((await list()).some((r) => typeof r.info === 'string' && query.test(r.info))) break;
      if (Date.now() > deadline) throw new Error(`no connection to ${database} ran ${query}`);
      await sleep(20);
    }
    const victims = await list();
    for (const r of victims) await admin.query(`KILL ${Number(r.id)}`).catch(() => undefined);
    return victims.length;
  } finally {
    await admin.end();
  }
}

/** The application name of the tests' own connections, which the faults spare. */
export const PROBE = 'fault-probe';

type Call = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

/** Starts a flow asynchronously through the REST API; returns its run id. */
export async function startRun(call: Call, flow: string): Promise<string> {
  const res = await call<{ runId: string }>('POST', `/rest/v1/flows/flow-name/${flow}/run?async=true`);
  if (res.status !== 202) throw new Error(`starting ${flow}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.runId;
}

/** Polls a run until it has ended. */
export async function finished(call: Call, id: string, timeoutMs = 60_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call<Run>('GET', `/rest/v1/runs/${id}`);
    if (body.status === 'succeeded' || body.status === 'failed' || body.status === 'cancelled') return body;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${body.status}`);
    await sleep(50);
  }
}
