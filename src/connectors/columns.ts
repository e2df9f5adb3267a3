/**
 * Column layout helpers shared by the database writers: when a destination spec carries no columns
 * (a schemaless source), the layout comes from the first batch.
 */
import { Decimal } from '../core/decimal.js';
import { AppError } from '../core/errors.js';
import { type Column, type ColumnType, fieldOf, type Row } from '../core/records.js';
import { stringifyJson } from '../formats/json-exact.js';
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

const NUMERIC = new Set<ColumnType>(['bigint', 'decimal', 'number']);

/**
 * The type that holds values of both types: integers and doubles together widen to decimal (exact for
 * both), anything else mixed to text. The same rule for every destination (docs/values.md).
 */
export function widenType(a: ColumnType | undefined, b: ColumnType | undefined): ColumnType | undefined {
  if (a === undefined || a === b) return b;
  if (b === undefined) return a;
  if (NUMERIC.has(a) && NUMERIC.has(b)) return 'decimal';
  return 'text';
}

/**
 * Columns from the keys of the rows in a batch, each typed to hold every value the batch has in it
 * (widenType; text when all are null), so no record of the batch fails on an early guess.
 */
export function inferColumns(rows: readonly Row[]): Column[] {
  const types = new Map<string, ColumnType | undefined>();
  for (const row of rows) {
    for (const k in row) {
      if (!Object.hasOwn(row, k)) continue;
      types.set(k, widenType(types.get(k), typeOf(row[k])));
    }
  }
  return [...types].map(([name, type]) => ({ name, type: type ?? 'text', nullable: true }));
}

/**
 * Whether a value can land unchanged in a column of this type as it was created: text and JSON take
 * anything, a decimal any number, a double no decimal (it would round), dates and timestamps their text.
 */
function fits(type: ColumnType, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  const t = typeOf(value);
  switch (type) {
    case 'text':
    case 'json':
      return true;
    case 'integer':
    case 'bigint':
      return t === 'bigint';
    case 'decimal':
      return NUMERIC.has(t ?? 'text');
    case 'number':
      return t === 'bigint' || t === 'number';
    case 'date':
    case 'timestamp':
      return t === 'text' || t === 'timestamp';
    default:
      return t === type;
  }
}

/**
 * For a table this write creates from columns inferred from the first batch: fails a later record
 * whose value the created column cannot take, naming the column, the record (counted from 1 in the
 * write) and the value, before the database would reject or change it.
 */
export function createdTypeGuard(
  columns: readonly Column[],
): (batch: readonly Row[], firstRecord: number) => void {
  return (batch, firstRecord) => {
    for (let i = 0; i < batch.length; i++) {
      const row = batch[i]!;
      for (const c of columns) {
        const v = fieldOf(row, c.name);
        if (fits(c.type, v)) continue;
        const record = firstRecord + i;
        const message = `the value ${shown(v)} does not fit the ${c.type} column the table was created with (from the first records); declare the type with a cast transform`;
        throw new AppError('INVALID_VALUE', `record ${record}, field '${c.name}': ${message}`, {
          details: [{ path: `record ${record}/${c.name}`, message }],
        });
      }
    }
  };
}

function shown(v: unknown): string {
  const text =
    typeof v === 'string' ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : stringifyJson(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Fails with INVALID_VALUE at the first field value `why` objects to (it returns the reason), naming
 * the record (counted from `firstRecord`) and the field: for a destination that cannot hold a value.
 */
export function refuseValues(
  rows: readonly Row[],
  firstRecord: number,
  why: (value: unknown) => string | undefined,
): void {
  for (let i = 0; i < rows.length; i++) {
    for (const [name, v] of Object.entries(rows[i]!)) {
      const reason = why(v);
      if (reason === undefined) continue;
      const record = firstRecord + i;
      throw new AppError('INVALID_VALUE', `record ${record}, field '${name}': ${reason}`, {
        details: [{ path: `record ${record}/${name}`, message: reason }],
      });
    }
  }
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
