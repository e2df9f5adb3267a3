/**
 * PostgreSQL type mapping. Reads produce the same JavaScript values on every connector (docs/values.md):
 * int8 as a number when safe and a bigint beyond 2^53, numeric as a Decimal (NaN and ±Infinity as
 * numbers), date as 'YYYY-MM-DD' (no time zone shift), timestamps as Date to the microsecond (core/timestamp.ts), json parsed, bytea as Buffer.
 */
import pg from 'pg';
import { Decimal, integerFromText } from '../../core/decimal.js';
import type { Column, ColumnType } from '../../core/records.js';
import { parseTimestamp } from '../../core/timestamp.js';
import { parseJson } from '../../formats/json-exact.js';

const OIDS: Record<number, ColumnType> = {
  16: 'boolean',
  20: 'bigint',
  21: 'integer',
  23: 'integer',
  26: 'bigint',
  700: 'number',
  701: 'number',
  1700: 'decimal',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamp',
  114: 'json',
  3802: 'json',
  17: 'bytes',
};

export function columnTypeOfOid(oid: number): ColumnType {
  return OIDS[oid] ?? 'text';
}

/** The column a result field describes; numeric(p,s) keeps p and s (pg's typmod is ((p << 16) | s) + 4). */
export function columnOfField(name: string, oid: number, typmod: number): Column {
  const type = columnTypeOfOid(oid);
  if (type !== 'decimal' || typmod < 4) return { name, type, nullable: true };
  const m = typmod - 4;
  return { name, type, nullable: true, precision: (m >> 16) & 0xffff, scale: m & 0xffff };
}

/** information_schema.columns.data_type to a logical type. */
export function columnTypeOfDataType(dataType: string): ColumnType {
  switch (dataType) {
    case 'smallint':
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'real':
    case 'double precision':
      return 'number';
    case 'numeric':
      return 'decimal';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return 'timestamp';
    case 'json':
    case 'jsonb':
      return 'json';
    case 'bytea':
      return 'bytes';
    default:
      return 'text';
  }
}

const PG_SQL_TYPES: Record<ColumnType, string> = {
  integer: 'integer',
  bigint: 'bigint',
  decimal: 'numeric',
  // A double stays one: numeric would read back as a Decimal.
  number: 'double precision',
  text: 'text',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
  json: 'jsonb',
  bytes: 'bytea',
};

// numeric prints canonical digits; only NaN and ±Infinity (which a decimal cannot be) start otherwise.
/** The SQL type of a created column: numeric(p,s) when the source declared them. */
export function pgSqlType(c: Column): string {
  if (c.type === 'decimal' && c.precision !== undefined && c.precision > 0 && c.precision <= 1000)
    return `numeric(${c.precision},${c.scale ?? 0})`;
  return PG_SQL_TYPES[c.type];
}

const toDecimal = (s: string): Decimal | number => {
  const c = s.charCodeAt(0);
  return c === 78 || c === 73 || (c === 45 && s.charCodeAt(1) === 73) ? Number(s) : new Decimal(s);
};
/**
 * timestamp (taken as UTC, so the host's TZ never changes the instant) and timestamptz, to the
 * microsecond; `infinity` and `-infinity` as the numbers, as node-postgres gives them.
 */
const toInstant = (s: string): Date | number | string => {
  if (s === 'infinity') return Number.POSITIVE_INFINITY;
  if (s === '-infinity') return Number.NEGATIVE_INFINITY;
  return parseTimestamp(s) ?? s;
};
const identity = (s: string): string => s;

/** Per-pool parsers (not the global pg.types, which other code in the process may rely on). */
// The cast only satisfies pg's overloaded typing of getTypeParser; no data passes through it.
export const pgTypeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === 20) return integerFromText;
      if (oid === 1700) return toDecimal;
      if (oid === 1082) return identity;
      if (oid === 1114 || oid === 1184) return toInstant;
      if (oid === 114 || oid === 3802) return parseJson;
    }
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};
