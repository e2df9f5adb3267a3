/**
 * PostgreSQL type mapping. Reads produce the same JavaScript values on every connector: integers as
 * numbers (bigint as a string only beyond 2^53), numeric as number, date as 'YYYY-MM-DD' (no time
 * zone shift), timestamps as Date, json parsed, bytea as Buffer.
 */
import pg from 'pg';
import type { ColumnType } from '../../core/records.js';

const OIDS: Record<number, ColumnType> = {
  16: 'boolean',
  20: 'bigint',
  21: 'integer',
  23: 'integer',
  26: 'bigint',
  700: 'number',
  701: 'number',
  1700: 'number',
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
    case 'numeric':
      return 'number';
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

export const PG_SQL_TYPES: Record<ColumnType, string> = {
  integer: 'integer',
  bigint: 'bigint',
  number: 'numeric',
  text: 'text',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
  json: 'jsonb',
  bytes: 'bytea',
};

const toNumber = (s: string): number => Number(s);
const toSafeInt = (s: string): number | string => {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
};
// A timestamp without time zone is taken as UTC, so the host's TZ never changes the instant.
const toUtcDate = (s: string): Date => new Date(`${s.replace(' ', 'T')}Z`);
const identity = (s: string): string => s;

/** Per-pool parsers (not the global pg.types, which other code in the process may rely on). */
// The cast only satisfies pg's overloaded typing of getTypeParser; no data passes through it.
export const pgTypeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === 20) return toSafeInt;
      if (oid === 1700) return toNumber;
      if (oid === 1082) return identity;
      if (oid === 1114) return toUtcDate;
    }
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};
