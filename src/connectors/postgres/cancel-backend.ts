import type pg from 'pg';
import { backendPid } from './pg-internals.js';

/** Cancels whatever the connection runs, from another connection, then lets the caller destroy it. */
export async function cancelBackend(pool: pg.Pool, client: pg.PoolClient): Promise<void> {
  const pid = backendPid(client);
  if (pid === undefined) return;
  await pool.query('select pg_cancel_backend($1)', [pid]).catch(() => undefined);
}
