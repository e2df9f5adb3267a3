/** MySQL/MariaDB type mapping, both ways. */
import type { SqlValue, TypeCast } from 'mysql2';
import { Decimal, integerFromText } from '../../core/decimal.js';
import type { Column, ColumnType } from '../../core/records.js';
import { microsOf, parseTimestamp } from '../../core/timestamp.js';
import { parseJson, stringifyJson } from '../../formats/json-exact.js';

/**
 * Values as docs/values.md gives them: BOOLEAN (TINYINT(1) on the wire) as a boolean, DECIMAL as a
 * Decimal and BIGINT by the integer rule (a number when safe, a bigint beyond), both from the text the
 * server sends, never through a double; JSON parsed with its numbers exact.
 */
export const mysqlTypeCast: TypeCast = (field, next) => {
  switch (field.type) {
    case 'TINY':
      if (field.length === 1) {
        const v = field.string();
        return v === null ? null : v !== '0';
      }
      return next();
    case 'NEWDECIMAL':
    case 'DECIMAL': {
      const v = field.string();
      return v === null ? null : (Decimal.parse(v) ?? v);
    }
    case 'LONGLONG': {
      const v = field.string();
      return v === null ? null : integerFromText(v);
    }
    case 'JSON': {
      const v = field.string('utf8');
      return v === null ? null : parseJson(v);
    }
    case 'DATETIME':
    case 'DATETIME2':
    case 'TIMESTAMP':
    case 'TIMESTAMP2': {
      // Stored in UTC (the session's time zone is +00:00); '0000-00-00 …' stays the text it is.
      const v = field.string();
      return v === null ? null : (parseTimestamp(v) ?? v);
    }
    default:
      return next();
  }
};

const BINARY_CHARSET = 63;

/** Column type from a result field (protocol type number, charset, length). */
export function columnTypeOfField(
  type: number | undefined,
  charset: number | undefined,
  length: number | undefined,
): ColumnType {
  switch (type) {
    case 1:
      return length === 1 ? 'boolean' : 'integer';
    case 2:
    case 3:
    case 9:
    case 13:
      return 'integer';
    case 8:
      return 'bigint';
    case 0:
    case 246:
      return 'decimal';
    case 4:
    case 5:
      return 'number';
    case 10:
    case 14:
      return 'date';
    case 7:
    case 12:
      return 'timestamp';
    case 245:
      return 'json';
    case 249:
    case 250:
    case 251:
    case 252:
    case 253:
    case 254:
      return charset === BINARY_CHARSET ? 'bytes' : 'text';
    default:
      return 'text';
  }
}

/** A DECIMAL result field's precision and scale (the field length counts the sign and the point). */
export function decimalOfField(
  length: number | undefined,
  decimals: number | undefined,
  flags: number | undefined,
): { precision: number; scale: number } | undefined {
  if (length === undefined || decimals === undefined) return undefined;
  const unsigned = ((flags ?? 0) & 32) !== 0;
  const precision = length - (decimals > 0 ? 1 : 0) - (unsigned ? 0 : 1);
  return precision > 0 && precision <= 65 ? { precision, scale: decimals } : undefined;
}

/** A column from information_schema COLUMN_TYPE: decimal(p,s) keeps p and s. */
export function columnOfColumnType(name: string, columnType: string): Column {
  const type = columnTypeOfColumnType(columnType);
  const m = /^(?:decimal|numeric)\((\d+)(?:,(\d+))?\)/i.exec(columnType);
  if (type !== 'decimal' || !m) return { name, type };
  return { name, type, precision: Number(m[1]), scale: Number(m[2] ?? 0) };
}

/** information_schema COLUMN_TYPE to a logical type. */
export function columnTypeOfColumnType(columnType: string): ColumnType {
  const t = columnType.toLowerCase();
  if (t === 'tinyint(1)' || t.startsWith('bool')) return 'boolean';
  if (t.startsWith('bigint')) return 'bigint';
  if (/^(tinyint|smallint|mediumint|int|year)/.test(t)) return 'integer';
  if (/^(decimal|numeric)/.test(t)) return 'decimal';
  if (/^(float|double|real)/.test(t)) return 'number';
  if (t === 'date') return 'date';
  if (/^(datetime|timestamp)/.test(t)) return 'timestamp';
  if (t === 'json') return 'json';
  if (/(blob|binary)/.test(t)) return 'bytes';
  return 'text';
}

/**
 * The DECIMAL a created column gets: the source's (p,s) when MySQL holds it (p <= 65, s <= 30), else
 * DECIMAL(65,30), the widest there is; a value it cannot hold fails the write (mysql-values.ts).
 */
export function mysqlDecimal(c: Pick<Column, 'precision' | 'scale'>): { precision: number; scale: number } {
  const p = c.precision;
  const s = c.scale ?? 0;
  if (p !== undefined && p > 0 && p <= 65 && s <= 30 && s <= p) return { precision: p, scale: s };
  return { precision: 65, scale: 30 };
}

/** SQL types for created tables; key columns of type text become VARCHAR so they can be indexed. */
export function mysqlSqlType(c: Column, isKey: boolean): string {
  switch (c.type) {
    case 'integer':
      return 'INT';
    case 'bigint':
      return 'BIGINT';
    case 'decimal': {
      const d = mysqlDecimal(c);
      return `DECIMAL(${d.precision},${d.scale})`;
    }
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'DATETIME(6)';
    case 'json':
      return 'JSON';
    case 'bytes':
      return isKey ? 'VARBINARY(255)' : 'LONGBLOB';
    default:
      return isKey ? 'VARCHAR(255)' : 'LONGTEXT';
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** A value ready for mysql2's client-side escaping: Dates as UTC DATETIME text, objects as JSON. */
export function mysqlValue(v: unknown): SqlValue {
  if (v === undefined) return null;
  // mysql2 prints -0 as 0.
  if (v === 0 && Object.is(v, -0)) return '-0';
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return null;
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())} ${pad(v.getUTCHours())}:${pad(
      v.getUTCMinutes(),
    )}:${pad(v.getUTCSeconds())}.${pad(v.getUTCMilliseconds(), 3)}${pad(microsOf(v), 3)}`;
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  // A DECIMAL column takes the digits as text exactly.
  if (v instanceof Decimal) return v.digits;
  // mysql2 would turn an object into `key = value` pairs and an array into a list.
  if (typeof v === 'object' && v !== null) return stringifyJson(v);
  if (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'boolean'
  ) {
    return v;
  }
  return String(v);
}
