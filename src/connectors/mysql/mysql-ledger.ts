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
  };
}
