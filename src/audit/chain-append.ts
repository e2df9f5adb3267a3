import { CompiledQuery, sql, type Transaction } from 'kysely';
import { insertRows, insertSql, ROWS_PER_STATEMENT, rowValues } from '../store/bulk-insert.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import { type ChainedFields, chainHash } from './audit-event.js';

export const AUDIT_COLUMNS = [
  'at',
  'actor',
  'action',
  'target',
  'outcome',
  'client_ip',
  'duration_ms',
  'details',
  'prev_hash',
  'hash',
] as const;

/** Another process appended since this one last did: the group is written again from the new head. */
export class ChainMoved extends Error {}

/** PostgreSQL's division_by_zero: how the one-statement append says that the head had moved. */
const DIVISION_BY_ZERO = '22012';

type ChainedRow = ChainedFields & { prev_hash: string; hash: string };

function chain(from: string, rows: readonly ChainedFields[]): { values: ChainedRow[]; head: string } {
  let prev = from;
  const values = rows.map((row) => {
    const hash = chainHash(prev, row);
    const v = { ...row, prev_hash: prev, hash };
    prev = hash;
    return v;
  });
  return { values, head: prev };
}

/**
 * Chains the events onto the head and moves the head (table audit_chain, migration 005), inside the
 * caller's transaction; returns the new head. With the head this process wrote last (`cached`), on a
 * store with one-statement group commits one statement moves it only if it is still there and inserts
 * the first rows, and throws ChainMoved when another process appended meanwhile. Without it, the head
 * row is read and locked first.
 */
export async function appendInTransaction(
  trx: Transaction<Database>,
  store: Store,
  rows: readonly ChainedFields[],
  cached: string | undefined,
): Promise<string> {
  // Without a compare-and-set (SQLite) another process on the same file (the CLI next to a running
  // server) may have appended, so the head is always read, inside the write transaction.
  const known = store.supportsOneStatementGroupCommit ? cached : undefined;
  const from = known ?? (await readHead(trx, store));
  const { values, head } = chain(from, rows);
  if (known === undefined) {
    // The head row is ours until commit (locked, or the write transaction's where it holds the store).
    await sql`update audit_chain set hash = ${head} where id = 1`.execute(trx);
    await insertRows(trx, store, 'audit_events', AUDIT_COLUMNS, values);
    return head;
  }
  const first = Math.min(values.length, ROWS_PER_STATEMENT);
  const $ = store.placeholder;
  const moved = await trx.executeQuery<{ moved: number }>(
    CompiledQuery.raw(
      `with head as (update audit_chain set hash = ${$(1)} where id = 1 and hash = ${$(2)} returning 1), ` +
        `added as (${insertSql($, 'audit_events', AUDIT_COLUMNS, first, 2)}) ` +
        'select count(*)::int as moved from head',
      rowValues(values, AUDIT_COLUMNS, 0, first, [head, from]),
    ),
  );
  if (moved.rows[0]?.moved !== 1) throw new ChainMoved();
  await insertRows(trx, store, 'audit_events', AUDIT_COLUMNS, values.slice(first));
  return head;
}

/** Bound values one statement may carry (PostgreSQL takes at most 65535). */
const MAX_BOUND_VALUES = 30_000;

/** Reads the chain head inside a write transaction, locking its row where writers run at once. */
async function readHead(trx: Transaction<Database>, store: Store): Promise<string> {
  const query = store.needsWriteLock
    ? sql<{ hash: string }>`select hash from audit_chain where id = 1 for update`
    : sql<{ hash: string }>`select hash from audit_chain where id = 1`;
  const hash = (await query.execute(trx)).rows[0]?.hash;
  if (hash === undefined) throw new Error('The audit trail has no chain head (table audit_chain, row 1)');
  return hash;
}

/**
 * Whether `appendAlone` can write a group of this many events with changes carrying `workValues` bound
 * values as parts of one statement (undefined: they cannot be parts of one statement).
 */
export function fitsOneStatement(events: number, workValues: number | undefined): boolean {
  if (events > ROWS_PER_STATEMENT || workValues === undefined) return false;
  return 2 + events * AUDIT_COLUMNS.length + workValues <= MAX_BOUND_VALUES;
}

/**
 * On a store with one-statement group commits, with the head this process wrote last: the whole group
 * in one statement and one round trip, no transaction around it. The statement moves the head if it is
 * still `cached`, writes the unit of work (its parts) and inserts the events, and divides by the number
 * of heads it moved, so when another process appended meanwhile it fails as a whole (nothing is
 * written) and ChainMoved is thrown.
 */
export async function appendAlone(
  store: Store,
  rows: readonly ChainedFields[],
  work: UnitOfWork | undefined,
  cached: string,
): Promise<string> {
  const { values, head } = chain(cached, rows);
  const $ = store.placeholder;
  const bound: unknown[] = [head, cached];
  const parts = [
    `with head as (update audit_chain set hash = ${$(1)} where id = 1 and hash = ${$(2)} returning 1)`,
  ];
  let n = 0;
  for (const part of work?.parts(store, bound.length) ?? []) {
    parts.push(`c${n++} as (${part.text})`);
    for (const v of part.values) bound.push(v);
  }
  parts.push(`added as (${insertSql($, 'audit_events', AUDIT_COLUMNS, values.length, bound.length)})`);
  for (const v of rowValues(values, AUDIT_COLUMNS, 0, values.length)) bound.push(v);
  try {
    await store.db.executeQuery(
      CompiledQuery.raw(`${parts.join(', ')} select 1 / (select count(*)::int from head) as moved`, bound),
    );
  } catch (err) {
    if ((err as { code?: unknown }).code === DIVISION_BY_ZERO) throw new ChainMoved();
    throw err;
  }
  return head;
}
