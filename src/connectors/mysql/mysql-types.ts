/** MySQL/MariaDB type mapping, both ways. */
import type { SqlValue, TypeCast } from 'mysql2';
import type { ColumnType } from '../../core/records.js';

/** BOOLEAN is TINYINT(1) on the wire; turn it back into a boolean. */
export const mysqlTypeCast: TypeCast = (field, next) => {
  if (field.type === 'TINY' && field.length === 1) {
    const v = field.string();
    return v === null ? null : v !== '0';
  }
  return next();
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
    case 4:
    case 5:
    case 246:
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

/** information_schema COLUMN_TYPE to a logical type. */
export function columnTypeOfColumnType(columnType: string): ColumnType {
  const t = columnType.toLowerCase();
  if (t === 'tinyint(1)' || t.startsWith('bool')) return 'boolean';
  if (t.startsWith('bigint')) return 'bigint';
  if (/^(tinyint|smallint|mediumint|int|year)/.test(t)) return 'integer';
  if (/^(decimal|numeric|float|double|real)/.test(t)) return 'number';
  if (t === 'date') return 'date';
  if (/^(datetime|timestamp)/.test(t)) return 'timestamp';
  if (t === 'json') return 'json';
  if (/(blob|binary)/.test(t)) return 'bytes';
  return 'text';
}

/** SQL types for created tables; key columns of type text become VARCHAR so they can be indexed. */
export function mysqlSqlType(type: ColumnType, isKey: boolean): string {
  switch (type) {
    case 'integer':
      return 'INT';
    case 'bigint':
      return 'BIGINT';
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
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return null;
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())} ${pad(v.getUTCHours())}:${pad(
      v.getUTCMinutes(),
    )}:${pad(v.getUTCSeconds())}.${pad(v.getUTCMilliseconds(), 3)}`;
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  // mysql2 would turn an object into `key = value` pairs and an array into a list.
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
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
