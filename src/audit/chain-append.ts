import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import { insertRows, insertSql, ROWS_PER_STATEMENT, rowValues } from '../store/bulk-insert.js';
import type { StoreDialect } from '../store/database.js';
import type { Database } from '../store/schema.js';
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

/** A row of another table that commits together with an audit event, and is all that must. */
export interface CompanionRow {
  table: keyof Database;
  /** The store's own column names (never user input). */
  columns: readonly string[];
  /** The row, by column name. */
  values: object;
}

/**
 * Writes items of one kind with one statement whose placeholders start after `offset` (an UPDATE …
 * FROM (VALUES …) of several rows), so that it can run alone or as a CTE of the audit append.
 */
export type StatementOf<T> = (items: T[], offset: number) => { text: string; values: unknown[] };

/** Items that one statement writes: the same `build` for all of them, `width` bound values each. */
export interface CompanionStatement {
  build: StatementOf<unknown>;
  width: number;
  items: unknown[];
}

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
 * caller's transaction; returns the new head. With the head this process wrote last (`cached`), one
 * statement on PostgreSQL moves it only if it is still there and inserts the first rows, and throws
 * ChainMoved when another process appended meanwhile. Without it, the head row is read and locked first.
 */
export async function appendInTransaction(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  rows: readonly ChainedFields[],
  cached: string | undefined,
): Promise<string> {
  const pg = dialect === 'postgres';
  // SQLite has no compare-and-set here: another process on the same file (the CLI next to a running
  // server) may have appended, so the head is always read, inside the write transaction.
  const known = pg ? cached : undefined;
  const from = known ?? (await readHead(trx, pg));
  const { values, head } = chain(from, rows);
  if (known === undefined) {
    // The head row is ours until commit (locked on PostgreSQL, the write transaction's on SQLite).
    await sql`update audit_chain set hash = ${head} where id = 1`.execute(trx);
    await insertRows(trx, dialect, 'audit_events', AUDIT_COLUMNS, values);
    return head;
  }
  const first = Math.min(values.length, ROWS_PER_STATEMENT);
  const moved = await trx.executeQuery<{ moved: number }>(
    CompiledQuery.raw(
      'with head as (update audit_chain set hash = $1 where id = 1 and hash = $2 returning 1), ' +
        `added as (${insertSql('postgres', 'audit_events', AUDIT_COLUMNS, first, 2)}) ` +
        'select count(*)::int as moved from head',
      rowValues(values, AUDIT_COLUMNS, 0, first, [head, from]),
    ),
  );
  if (moved.rows[0]?.moved !== 1) throw new ChainMoved();
  await insertRows(trx, dialect, 'audit_events', AUDIT_COLUMNS, values.slice(first));
  return head;
}

/** Bound values one statement may carry (PostgreSQL takes at most 65535). */
const MAX_BOUND_VALUES = 30_000;

/** Reads the chain head inside a write transaction, locking its row on PostgreSQL. */
async function readHead(trx: Transaction<Database>, pg: boolean): Promise<string> {
  const query = pg
    ? sql<{ hash: string }>`select hash from audit_chain where id = 1 for update`
    : sql<{ hash: string }>`select hash from audit_chain where id = 1`;
  const hash = (await query.execute(trx)).rows[0]?.hash;
  if (hash === undefined) throw new Error('The audit trail has no chain head (table audit_chain, row 1)');
  return hash;
}

/** Whether `appendAlone` can write a group of this many events with these companions. */
export function fitsOneStatement(
  events: number,
  companions: readonly CompanionRow[],
  statements: readonly CompanionStatement[],
): boolean {
  if (events > ROWS_PER_STATEMENT) return false;
  let values = 2 + events * AUDIT_COLUMNS.length;
  for (const c of companions) values += c.columns.length;
  for (const st of statements) values += st.width * st.items.length;
  return values <= MAX_BOUND_VALUES;
}

/** Companion rows by table, in the order their tables first appear. */
function byTable(
  rows: readonly CompanionRow[],
): { table: keyof Database; columns: readonly string[]; rows: object[] }[] {
  const groups = new Map<string, { table: keyof Database; columns: readonly string[]; rows: object[] }>();
  for (const c of rows) {
    const key = `${c.table}\u0000${c.columns.join(',')}`;
    const group = groups.get(key);
    if (group) group.rows.push(c.values);
    else groups.set(key, { table: c.table, columns: c.columns, rows: [c.values] });
  }
  return [...groups.values()];
}

/** Inserts companion rows inside the caller's transaction, one multi-row INSERT per table. */
export async function insertCompanionRows(
  trx: Transaction<Database>,
  dialect: StoreDialect,
  rows: readonly CompanionRow[],
): Promise<void> {
  for (const group of byTable(rows)) {
    // The rows are read by the column names they came with.
    await insertRows(trx, dialect, group.table, group.columns, group.rows as Record<string, unknown>[]);
  }
}

/**
 * PostgreSQL only, with the head this process wrote last: the whole group in one statement and one round
 * trip, no transaction around it. The statement moves the head if it is still `cached`, writes the
 * companions (rows to insert, statements) and inserts the events, and divides by the number of heads it moved, so when another process
 * appended meanwhile it fails as a whole (nothing is written) and ChainMoved is thrown.
 */
export async function appendAlone(
  db: Kysely<Database>,
  rows: readonly ChainedFields[],
  companions: readonly CompanionRow[],
  statements: readonly CompanionStatement[],
  cached: string,
): Promise<string> {
  const { values, head } = chain(cached, rows);
  const bound: unknown[] = [head, cached];
  const parts = ['with head as (update audit_chain set hash = $1 where id = 1 and hash = $2 returning 1)'];
  let n = 0;
  for (const group of byTable(companions)) {
    parts.push(
      `c${n++} as (${insertSql('postgres', group.table, group.columns, group.rows.length, bound.length)})`,
    );
    // The rows are read by the column names they came with.
    const rows = group.rows as Record<string, unknown>[];
    for (const v of rowValues(rows, group.columns, 0, rows.length)) bound.push(v);
  }
  for (const st of statements) {
    const { text, values: stValues } = st.build(st.items, bound.length);
    parts.push(`c${n++} as (${text})`);
    for (const v of stValues) bound.push(v);
  }
  parts.push(
    `added as (${insertSql('postgres', 'audit_events', AUDIT_COLUMNS, values.length, bound.length)})`,
  );
  for (const v of rowValues(values, AUDIT_COLUMNS, 0, values.length)) bound.push(v);
  try {
    await db.executeQuery(
      CompiledQuery.raw(`${parts.join(', ')} select 1 / (select count(*)::int from head) as moved`, bound),
    );
  } catch (err) {
    if ((err as { code?: unknown }).code === DIVISION_BY_ZERO) throw new ChainMoved();
    throw err;
  }
  return head;
}
