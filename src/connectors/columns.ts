/**
 * Column layout helpers shared by the database writers: when a destination spec carries no columns
 * (a schemaless source), the layout comes from the first batch.
 */
import { Decimal } from '../core/decimal.js';
import { AppError } from '../core/errors.js';
import type { Column, ColumnType, Row } from '../core/records.js';
import type { DestinationSpec } from './connector.js';

function typeOf(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'number';
  if (value instanceof Decimal) return 'decimal';
  if (value instanceof Date) return 'timestamp';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return 'json';
  return 'text';
}

/** Columns from the keys of the rows in a batch, typed by the first non-null value (text otherwise). */
export function inferColumns(rows: readonly Row[]): Column[] {
  const types = new Map<string, ColumnType | undefined>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (types.get(k) === undefined) types.set(k, typeOf(v));
    }
  }
  return [...types].map(([name, type]) => ({ name, type: type ?? 'text', nullable: true }));
}

/** The columns a write uses: the spec's, or inferred from the first batch. */
export function writeColumns(spec: DestinationSpec, firstBatch: readonly Row[]): Column[] {
  const cols = spec.columns.length > 0 ? spec.columns : inferColumns(firstBatch);
  if (cols.length === 0) throw new AppError('NO_COLUMNS', 'nothing to write: the rows have no columns');
  return cols;
}

/** Checks what an upsert needs before any row moves. */
export function upsertKeys(spec: DestinationSpec, columns: readonly Column[]): string[] {
  const keys = spec.keys ?? columns.filter((c) => c.primaryKey).map((c) => c.name);
  if (keys.length === 0) {
    throw new AppError('BAD_REQUEST', `upsert into '${spec.table}' needs key columns: set keys`);
  }
  return keys;
}

export function requireTable(spec: { table?: string }): string {
  if (!spec.table) throw new AppError('BAD_REQUEST', 'this connection writes to tables: set table');
  return spec.table;
}

/**
 * Fails with UNKNOWN_FIELD when a record of `batch` has a field the target table lacks, naming the
 * field and the record (counted from 1 in the write). For databases whose error does not say so by
 * code (SQLite words it only in its message).
 */
export function requireKnownFields(
  table: string,
  existing: readonly Column[],
  names: readonly string[],
  batch: readonly Row[],
): void {
  const have = new Set(existing.map((c) => c.name));
  const missing = names.find((n) => !have.has(n));
  if (missing === undefined) return;
  const record = batch.findIndex((r) => Object.hasOwn(r, missing)) + 1;
  throw new AppError(
    'UNKNOWN_FIELD',
    `record ${record || 1}, field '${missing}': table '${table}' has no column '${missing}' (it has ${[...have].join(', ')})`,
    {
      details: [{ path: `record ${record || 1}/${missing}`, message: `table '${table}' has no such column` }],
    },
  );
}
