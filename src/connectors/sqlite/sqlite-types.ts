/**
 * SQLite stores few storage classes, so created tables declare descriptive type names (BOOLEAN,
 * DATE, TIMESTAMP, JSON) and reads use the declared type to give back the same JavaScript values as
 * the other connectors: booleans, 'YYYY-MM-DD' dates, Date timestamps, parsed JSON.
 */
import type { ColumnType } from '../../core/records.js';

export const SQLITE_SQL_TYPES: Record<ColumnType, string> = {
  integer: 'INTEGER',
  bigint: 'BIGINT',
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
  if (/REAL|FLOA|DOUB|NUMERIC|DECIMAL/.test(t)) return 'number';
  return 'text';
}

/** A stored value back to its logical type. */
export function fromSqlite(v: unknown, type: ColumnType): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'boolean':
      return typeof v === 'number' || typeof v === 'bigint' ? v !== 0 && v !== 0n : v;
    case 'timestamp':
      if (typeof v === 'string' || typeof v === 'number') {
        const d = new Date(
          typeof v === 'string' && !/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? `${v.replace(' ', 'T')}Z` : v,
        );
        return Number.isNaN(d.getTime()) ? v : d;
      }
      return v;
    case 'json':
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    default:
      return v;
  }
}

/** A JavaScript value to something better-sqlite3 can bind. */
export function toSqlite(v: unknown): string | number | bigint | Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return JSON.stringify(v);
}
