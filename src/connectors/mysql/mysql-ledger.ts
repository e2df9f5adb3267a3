/** The commit ledger (commit-ledger.ts) on MySQL/MariaDB. */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import {
  type CommitLedger,
  type CommitMark,
  findSql,
  type LedgerState,
  ledgerDdl,
  recordSql,
  toRecorded,
} from '../commit-ledger.js';
import { findKeysSql, insertKeysSql, keysDdl, type MessageKeys } from '../message-keys.js';
import { mysqlError } from './mysql-errors.js';

/** ER_NO_SUCH_TABLE */
const NO_SUCH_TABLE = 1146;

/** Creates the ledger table when missing: DDL commits implicitly here, so never inside the write's transaction. */
export async function ensureMysqlLedger(conn: PoolConnection, ledger: LedgerState): Promise<void> {
  if (ledger.ready) return;
  await conn.query(ledgerDdl('mysql'));
  ledger.ready = true;
}

/** Records the commit inside the write's open transaction (and now and then removes old records). */
export async function recordMysqlCommit(
  conn: PoolConnection,
  ledger: LedgerState,
  mark: CommitMark,
  rowsWritten: number,
): Promise<void> {
  const prune = ledger.prune();
  if (prune) await conn.query(prune.text, prune.values);
  const rec = recordSql('mysql', mark, rowsWritten);
  await conn.query(rec.text, rec.values);
}

/** Creates the message key table when missing, outside the write's transaction (DDL commits here). */
export async function ensureMysqlKeys(conn: PoolConnection, keys: LedgerState): Promise<void> {
  if (keys.ready) return;
  await conn.query(keysDdl('mysql'));
  keys.ready = true;
}

/** Records the messages' keys inside the write's open transaction; a key recorded before fails it. */
export async function recordMysqlKeys(
  conn: PoolConnection,
  state: LedgerState,
  keys: MessageKeys,
): Promise<void> {
  const prune = state.prune();
  if (prune) await conn.query(prune.text, prune.values);
  for (const q of insertKeysSql(keys, new Date().toISOString())) await conn.query(q.text, q.values);
}

export function mysqlLedger(pool: Pool): CommitLedger {
  return {
    async find(runId, step) {
      const q = findSql('mysql', runId, step);
      try {
        const [rows] = await pool.query<RowDataPacket[]>(q.text, q.values);
        return toRecorded(rows[0]);
      } catch (e) {
        if (typeof e === 'object' && e !== null && 'errno' in e && e.errno === NO_SUCH_TABLE)
          return undefined;
        throw mysqlError(e, 'reading the commit ledger');
      }
    },
    async findKeys(scope, keys) {
      const found = new Set<string>();
      try {
        for (const q of findKeysSql(scope, keys)) {
          const [rows] = await pool.query<RowDataPacket[]>(q.text, q.values);
          for (const r of rows) found.add(String(r['message_key']));
        }
        return found;
      } catch (e) {
        if (typeof e === 'object' && e !== null && 'errno' in e && e.errno === NO_SUCH_TABLE) return found;
        throw mysqlError(e, 'reading the message keys');
      }
    },
  };
}
