/** The commit ledger (commit-ledger.ts) on PostgreSQL. */
import type pg from 'pg';
import {
  type CommitLedger,
  type CommitMark,
  findSql,
  type LedgerState,
  ledgerDdl,
  recordSql,
  toRecorded,
} from '../commit-ledger.js';
import { KEYS_TABLE, keysDdl, type MessageKeys } from '../message-keys.js';
import { pgError } from './pg-errors.js';

/** duplicate_table, and unique_violation (pg_type) when two sessions create the table at once. */
const CREATED_MEANWHILE = new Set(['42P07', '23505']);
const UNDEFINED_TABLE = '42P01';

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}

/**
 * Makes sure the ledger table exists, once per connection and outside any transaction, so that a
 * concurrent creator cannot fail the write's own transaction.
 */
export async function ensurePgLedger(client: pg.ClientBase, ledger: LedgerState): Promise<void> {
  if (ledger.ready) return;
  await client.query(ledgerDdl('postgres')).catch((e: unknown) => {
    if (!CREATED_MEANWHILE.has(String(codeOf(e)))) throw e;
  });
  ledger.ready = true;
}

/** Records the commit inside the write's open transaction (and now and then removes old records). */
export async function recordPgCommit(
  client: pg.ClientBase,
  ledger: LedgerState,
  mark: CommitMark,
  rowsWritten: number,
): Promise<void> {
  const prune = ledger.prune();
  if (prune) await client.query(prune.text, prune.values);
  const rec = recordSql('postgres', mark, rowsWritten);
  await client.query(rec.text, rec.values);
}

/** Makes sure the message key table exists, once per connection and outside any transaction. */
export async function ensurePgKeys(client: pg.ClientBase, keys: LedgerState): Promise<void> {
  if (keys.ready) return;
  await client.query(keysDdl('postgres')).catch((e: unknown) => {
    if (!CREATED_MEANWHILE.has(String(codeOf(e)))) throw e;
  });
  keys.ready = true;
}

/** Records the messages' keys inside the write's open transaction; a key recorded before fails it. */
export async function recordPgKeys(
  client: pg.ClientBase,
  state: LedgerState,
  keys: MessageKeys,
): Promise<void> {
  const prune = state.prune();
  if (prune) await client.query(prune.text, prune.values);
  await client.query(
    `INSERT INTO ${KEYS_TABLE} (scope, message_key, committed_at) SELECT $1, k, $3 FROM unnest($2::text[]) k`,
    [keys.scope, keys.keys, new Date().toISOString()],
  );
}

export function pgLedger(pool: pg.Pool): CommitLedger {
  return {
    async find(runId, step) {
      const q = findSql('postgres', runId, step);
      try {
        const res = await pool.query(q.text, q.values);
        return toRecorded(res.rows[0]);
      } catch (e) {
        if (codeOf(e) === UNDEFINED_TABLE) return undefined;
        throw pgError(e, 'reading the commit ledger');
      }
    },
    async findKeys(scope, keys) {
      try {
        const res = await pool.query<{ message_key: string }>(
          `SELECT message_key FROM ${KEYS_TABLE} WHERE scope = $1 AND message_key = ANY($2::text[])`,
          [scope, [...keys]],
        );
        return new Set(res.rows.map((r) => r.message_key));
      } catch (e) {
        if (codeOf(e) === UNDEFINED_TABLE) return new Set();
        throw pgError(e, 'reading the message keys');
      }
    },
  };
}
