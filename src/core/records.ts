/**
 * The shape of data in motion. Connectors and formats produce and consume streams of batches:
 * `AsyncIterable<Row[]>`. A batch keeps per-record overhead low; iterating one batch at a time gives
 * back-pressure for free and keeps memory flat however many rows flow.
 */
export type Row = Record<string, unknown>;
export type Batch = Row[];
export type RowStream = AsyncIterable<Batch>;

/**
 * Logical column types shared by every connector; each connector maps them to its own SQL types
 * (docs/values.md). `number` is a double; `decimal` is exact (values are Decimal, see core/decimal.ts).
 */
export type ColumnType =
  | 'integer'
  | 'bigint'
  | 'decimal'
  | 'number'
  | 'text'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'json'
  | 'bytes';

export const COLUMN_TYPES: readonly ColumnType[] = [
  'integer',
  'bigint',
  'decimal',
  'number',
  'text',
  'boolean',
  'date',
  'timestamp',
  'json',
  'bytes',
];

export interface Column {
  name: string;
  type: ColumnType;
  nullable?: boolean;
  primaryKey?: boolean;
  /** For decimal: total digits and fraction digits, when the source declares them (numeric(p,s)). */
  precision?: number;
  scale?: number;
}

/**
 * Default number of rows in a batch when a producer is free to choose. Batches in flight are what a
 * young-generation collection finds alive and promotes to the old generation, so smaller batches keep a
 * long load's peak memory lower; this size is still large enough that per-batch overhead stays small.
 */
export const DEFAULT_BATCH_SIZE = 2000;

/** Rows already in memory as a stream of one batch (none when there are no rows). */
export async function* oneBatch(rows: Row[]): RowStream {
  if (rows.length > 0) yield rows;
}

/**
 * A row's own field, or undefined. Rows are plain objects, so a row lacking a field named like an
 * Object.prototype member (`constructor`, `toString`, `__proto__`) would otherwise read as the inherited
 * function or object; no value a reader produces is a function or Object.prototype itself, so only
 * such reads pay for the own-property check.
 */
export function fieldOf(row: Row, name: string): unknown {
  const v = row[name];
  if (v === undefined || (typeof v !== 'function' && v !== Object.prototype)) return v;
  return Object.hasOwn(row, name) ? v : undefined;
}

/** Sets an own field, even one named `__proto__`, which plain assignment would take as the prototype. */
export function setField(target: Row, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else target[key] = value;
}
