/**
 * SQLite stores few storage classes, so created tables declare descriptive type names (BOOLEAN,
 * DATE, TIMESTAMP, JSON) and reads use the declared type to give back the same JavaScript values as
 * the other connectors: booleans, 'YYYY-MM-DD' dates, Date timestamps, parsed JSON.
 */
import { Decimal } from '../../core/decimal.js';
import type { ColumnType } from '../../core/records.js';
import { parseTimestamp } from '../../core/timestamp.js';
import { parseJson, stringifyJson } from '../../formats/json-exact.js';

export const SQLITE_SQL_TYPES: Record<ColumnType, string> = {
  integer: 'INTEGER',
  bigint: 'BIGINT',
  // TEXT affinity keeps every digit (a DECIMAL declaration alone would store a REAL); reads see DECIMAL.
  decimal: 'DECIMAL TEXT',
  number: 'REAL',
  text: 'TEXT',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  json: 'JSON',
  bytes: 'BLOB',
};

export function columnTypeOfDeclared(declared: string | null | undefined): ColumnType {
  const t = (declared ?? '').toUpperCase();
  if (t === 'BIGINT') return 'bigint';
  if (t.includes('INT')) return 'integer';
  if (t.startsWith('BOOL')) return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP') || t.startsWith('DATETIME')) return 'timestamp';
  if (t === 'JSON') return 'json';
  if (t.includes('BLOB')) return 'bytes';
  if (/NUMERIC|DECIMAL/.test(t)) return 'decimal';
  if (/REAL|FLOA|DOUB/.test(t)) return 'number';
  return 'text';
}

/** A stored value back to its logical type. */
export function fromSqlite(v: unknown, type: ColumnType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'boolean':
      return typeof v === 'number' || typeof v === 'bigint' ? v !== 0 && v !== 0n : v;
    case 'integer':
    case 'bigint':
      return typeof v === 'bigint' ? safeOrBig(v) : v;
    case 'timestamp':
      if (typeof v === 'string') return parseTimestamp(v.trim()) ?? v;
      if (typeof v === 'number') {
        const d = new Date(v);
        return Number.isNaN(d.getTime()) ? v : d;
      }
      return v;
    case 'json':
      if (typeof v === 'bigint') return safeOrBig(v);
      if (typeof v !== 'string') return v;
      try {
        return parseJson(v);
      } catch {
        return v;
      }
    case 'decimal':
      // A REAL is a double already (SQLite kept no more); text holds the digits a writer stored.
      if (typeof v === 'string') return Decimal.parse(v) ?? v;
      return typeof v === 'bigint' ? safeOrBig(v) : v;
    default:
      return typeof v === 'bigint' ? safeOrBig(v) : v;
  }
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Integers are read as bigints (safeIntegers); the integer rule makes the safe ones numbers again. */
function safeOrBig(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** A value for a decimal column: numbers as the digits they print as, so the text is the value. */
export function toSqliteDecimal(v: unknown): string | number | bigint | Buffer | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Decimal.from(v).digits;
  if (typeof v === 'bigint') return v.toString();
  return toSqlite(v);
}

/** A JavaScript value to something better-sqlite3 can bind. */
export function toSqlite(v: unknown): string | number | bigint | Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  // SQLite has no exact decimal: the digits are stored as text (created tables declare DECIMAL TEXT).
  if (v instanceof Decimal) return v.digits;
  return stringifyJson(v);
}
