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
  let from = cached;
  if (from === undefined) {
    const read = pg
      ? sql<{ hash: string }>`select hash from audit_chain where id = 1 for update`
      : sql<{ hash: string }>`select hash from audit_chain where id = 1`;
    from = (await read.execute(trx)).rows[0]?.hash;
    if (from === undefined) throw new Error('The audit trail has no chain head (table audit_chain, row 1)');
  }
  const { values, head } = chain(from, rows);
  if (cached === undefined || !pg) {
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

/** Whether `appendAlone` can write a group of this many events and companion rows. */
export function fitsOneStatement(events: number, companionRows: number): boolean {
  return events <= ROWS_PER_STATEMENT && companionRows <= ROWS_PER_STATEMENT;
}

/**
 * PostgreSQL only, with the head this process wrote last: the whole group in one statement and one round
 * trip, no transaction around it. The statement moves the head if it is still `cached`, inserts the
 * companion rows and the events, and divides by the number of heads it moved, so when another process
 * appended meanwhile it fails as a whole (nothing is written) and ChainMoved is thrown.
 */
export async function appendAlone(
  db: Kysely<Database>,
  rows: readonly ChainedFields[],
  companions: readonly CompanionRow[],
  cached: string,
): Promise<string> {
  const { values, head } = chain(cached, rows);
  const bound: unknown[] = [head, cached];
  const parts = ['with head as (update audit_chain set hash = $1 where id = 1 and hash = $2 returning 1)'];
  const byTable = new Map<string, { columns: readonly string[]; rows: object[] }>();
  for (const c of companions) {
    const key = `${c.table}\u0000${c.columns.join(',')}`;
    const group = byTable.get(key);
    if (group) group.rows.push(c.values);
    else byTable.set(key, { columns: c.columns, rows: [c.values] });
  }
  let n = 0;
  for (const [key, group] of byTable) {
    const table = key.slice(0, key.indexOf('\u0000'));
    parts.push(
      `c${n++} as (${insertSql('postgres', table, group.columns, group.rows.length, bound.length)})`,
    );
    // The rows are read by the column names they came with.
    const rows = group.rows as Record<string, unknown>[];
    for (const v of rowValues(rows, group.columns, 0, rows.length)) bound.push(v);
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
