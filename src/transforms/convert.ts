/**
 * Strict value conversions shared by the `cast` transform and the conversion functions of the
 * expression language, so `cast: {qty: integer}` and `int(qty)` accept exactly the same inputs.
 * Each converter returns the converted value or throws a ConversionError saying why; null and
 * undefined convert to null. For non-text targets the empty string is null too, because that is how
 * CSV files spell a missing value.
 */

import { Decimal, integerFromText } from '../core/decimal.js';
import type { ColumnType } from '../core/records.js';
import { parseTimestamp } from '../core/timestamp.js';
import { parseJson, stringifyJson } from '../formats/json-exact.js';

export class ConversionError extends Error {
  constructor(value: unknown, target: string) {
    super(`cannot convert ${show(value)} to ${target}`);
    this.name = 'ConversionError';
  }
}

/** A short, quoted rendering of a bad value for error messages (never the whole of a long text). */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (value === null || value === undefined) return 'null';
  if (value instanceof Decimal)
    return value.digits.length > 40 ? `${value.digits.slice(0, 40)}…` : value.digits;
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  return String(value);
}

const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const SPECIAL_DOUBLES = new Map([
  ['nan', Number.NaN],
  ['infinity', Number.POSITIVE_INFINITY],
  ['+infinity', Number.POSITIVE_INFINITY],
  ['-infinity', Number.NEGATIVE_INFINITY],
  ['inf', Number.POSITIVE_INFINITY],
  ['+inf', Number.POSITIVE_INFINITY],
  ['-inf', Number.NEGATIVE_INFINITY],
]);
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_TEXT =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2}){0,2})?$/;
// PostgreSQL's spellings too, so its text output (`t`, `f`) casts back.
const TRUE_WORDS = new Set(['true', '1', 'yes', 't', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'f', 'n', 'off']);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** A double: the one conversion that may round (a decimal or a bigint to the nearest double), as asked. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  // A double is one, NaN and infinity included.
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (NUMBER_TEXT.test(value)) return Number(value);
    // What the writers (and PostgreSQL) write for the doubles that are no finite number.
    const special = SPECIAL_DOUBLES.get(value.trim().toLowerCase());
    if (special !== undefined) return special;
  } else if (typeof value === 'bigint') {
    return Number(value);
  } else if (value instanceof Decimal) {
    return value.toNumber();
  }
  throw new ConversionError(value, 'number');
}

/** An exact decimal: from number text with every digit, from integers, and from doubles as they print. */
export function toDecimal(value: unknown): Decimal | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Decimal) return value;
  if (typeof value === 'string') {
    const d = Decimal.parse(value);
    if (d) return d;
  } else if (typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) {
    return Decimal.from(value);
  }
  throw new ConversionError(value, 'decimal');
}

/** 32-bit integer, the range of an SQL INTEGER column; fractions are refused rather than truncated. */
export function toInteger(value: unknown): number | null {
  const n = integral(value, 'integer');
  if (n === null) return null;
  if (typeof n !== 'number' || n < INT32_MIN || n > INT32_MAX) throw new ConversionError(value, 'integer');
  return n;
}

/**
 * 64-bit integer by the integer rule (docs/values.md): safe integers are numbers, larger ones bigints,
 * because a JS number would silently round them.
 */
export function toBigint(value: unknown): number | bigint | null {
  const n = integral(value, 'bigint');
  if (n === null || typeof n === 'number') return n;
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new ConversionError(value, 'bigint');
  return n;
}

/** A whole number as a number, or as a bigint when it is beyond the safe range. */
function integral(value: unknown, target: string): number | bigint | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
  } else if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  } else if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    return integerFromText(value.trim().replace(/^\+/, ''));
  } else if (value instanceof Decimal && value.isInteger()) {
    return integerFromText(value.trimmed().digits.replace(/\.$/, ''));
  }
  throw new ConversionError(value, target);
}

export function toBoolean(value: unknown): boolean | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  throw new ConversionError(value, 'boolean');
}

export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Decimal) return value.digits;
  if (typeof value === 'object' && !(value instanceof Uint8Array)) return stringifyJson(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return String(value);
}

/** A calendar date as ISO `YYYY-MM-DD` text: it has no time zone, so text is its honest form. */
export function toDate(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  if (typeof value === 'string') {
    const text = value.trim();
    const m = DATE_TEXT.exec(text);
    if (m && validDay(Number(m[1]), Number(m[2]), Number(m[3]))) return text;
    if (TIMESTAMP_TEXT.test(text)) return toTimestamp(text)!.toISOString().slice(0, 10);
  }
  throw new ConversionError(value, 'date');
}

/**
 * An instant, to the microsecond (core/timestamp.ts). ISO text without a zone is read as UTC so a run
 * gives the same result on any server.
 */
export function toTimestamp(value: unknown): Date | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) return value;
  } else if (typeof value === 'number') {
    if (Number.isFinite(value)) return new Date(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    // To the microsecond; digits beyond it that are not zero would be lost, so they are refused.
    if (TIMESTAMP_TEXT.test(text)) {
      const d = parseTimestamp(text);
      if (d) return d;
    }
  }
  throw new ConversionError(value, 'timestamp');
}

export function toJson(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') return value;
  try {
    return parseJson(value);
  } catch {
    throw new ConversionError(value, 'json');
  }
}

const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes arrive as base64 text in CSV and JSON; binary values pass through. */
export function toBytes(value: unknown): Uint8Array | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string' && value.length % 4 === 0 && BASE64_TEXT.test(value)) {
    return Buffer.from(value, 'base64');
  }
  throw new ConversionError(value, 'bytes');
}

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export const CONVERTERS: Record<ColumnType, (value: unknown) => unknown> = {
  integer: toInteger,
  bigint: toBigint,
  decimal: toDecimal,
  number: toNumber,
  text: toText,
  boolean: toBoolean,
  date: toDate,
  timestamp: toTimestamp,
  json: toJson,
  bytes: toBytes,
};
