import { CompiledQuery, type Kysely } from 'kysely';
import type { StoreDialect } from './database.js';
import type { Database } from './schema.js';

/** Rows per INSERT: 23 columns × 400 rows stays under SQLite's limit of bound values per statement. */
const ROWS_PER_STATEMENT = 400;

/**
 * Inserts rows into one of the store's own tables as multi-row INSERTs with bound values, written as SQL
 * text directly. These are the store's hot writes (ended runs, audit events, listener payloads): they
 * happen for every call and run, and building them through the query builder cost more CPU than the
 * rest of the write. `columns` are the store's own column names (never user input); a missing value is
 * stored as null.
 */
export async function insertRows<R extends object>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  table: keyof Database,
  columns: readonly (keyof R & string)[],
  rows: readonly R[],
): Promise<void> {
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (const row of chunk) {
      const marks: string[] = [];
      for (const c of columns) {
        values.push(row[c] ?? null);
        marks.push(dialect === 'postgres' ? `$${values.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    await db.executeQuery(CompiledQuery.raw(head + tuples.join(', '), values));
  }
}
