import { CompiledQuery, type Kysely } from 'kysely';
import type { Store } from './database.js';
import type { Database } from './schema.js';

/** Rows per INSERT: 23 columns × 400 rows stays under SQLite's limit of bound values per statement. */
export const ROWS_PER_STATEMENT = 400;

/**
 * Statement texts by table, placeholder style and row count: the same few shapes recur on every call, so their
 * placeholders are built once per shape rather than for each row of each write.
 */
const statements = new Map<string, string>();
const MAX_STATEMENTS = 4000;

/**
 * The INSERT of `rows` rows with placeholders written by `placeholder`, numbered from `offset + 1` (where
 * the store numbers them), so the statement can follow other bound values (a CTE before it).
 */
export function insertSql(
  placeholder: Store['placeholder'],
  table: string,
  columns: readonly string[],
  rows: number,
  offset = 0,
): string {
  const key = `${placeholder(1)}\u0000${table}\u0000${columns.join(',')}\u0000${rows}\u0000${offset}`;
  let sql = statements.get(key);
  if (sql !== undefined) return sql;
  const tuples: string[] = [];
  let n = offset;
  for (let r = 0; r < rows; r++) {
    const marks: string[] = [];
    for (let c = 0; c < columns.length; c++) marks.push(placeholder(++n));
    tuples.push(`(${marks.join(', ')})`);
  }
  sql = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
  if (statements.size >= MAX_STATEMENTS) statements.clear();
  statements.set(key, sql);
  return sql;
}

/**
 * Inserts rows into one of the store's own tables as multi-row INSERTs with bound values, written as SQL
 * text directly. These are the store's hot writes (ended runs, audit events, listener payloads): they
 * happen for every call and run, and building them through the query builder would cost more CPU than
 * the rest of the write. `columns` are the store's own column names (never user input); a missing value is
 * stored as null.
 */
export async function insertRows<R extends object>(
  db: Kysely<Database>,
  store: Pick<Store, 'placeholder'>,
  table: keyof Database,
  columns: readonly (keyof R & string)[],
  rows: readonly R[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const end = Math.min(rows.length, start + ROWS_PER_STATEMENT);
    const values = rowValues(rows, columns, start, end);
    await db.executeQuery(
      CompiledQuery.raw(insertSql(store.placeholder, table, columns, end - start), values),
    );
  }
}

/** The bound values of rows `start` to `end` (exclusive), row by row, `before` first. */
export function rowValues<R extends object>(
  rows: readonly R[],
  columns: readonly (keyof R & string)[],
  start: number,
  end: number,
  before: readonly unknown[] = [],
): unknown[] {
  const values: unknown[] = new Array(before.length + (end - start) * columns.length);
  let i = 0;
  for (const v of before) values[i++] = v;
  for (let r = start; r < end; r++) {
    const row = rows[r] as R;
    for (const c of columns) values[i++] = row[c] ?? null;
  }
  return values;
}
