/**
 * The function library of the expression language: the only code an expression can call. It lives in
 * a Map (no prototype lookups), every function takes plain values and returns a plain value, and none
 * touches the file system, network, process or globals. Null in, null out, except where noted
 * (concat and coalesce exist to handle nulls).
 */

import { createHash, randomUUID } from 'node:crypto';
import { Decimal } from '../core/decimal.js';
import { errorMessage } from '../core/errors.js';
import type { ColumnType } from '../core/records.js';
import { instantOf, microsOf } from '../core/timestamp.js';
import { toBoolean, toDecimal, toInteger, toNumber, toText, toTimestamp } from './convert.js';
import { ExpressionRuntimeError } from './expression-error.js';
import { describe, text } from './expression-values.js';

export interface FunctionDef {
  min: number;
  max: number;
  /** Pure functions of constant arguments are evaluated once at compile time. */
  pure: boolean;
  /** Column type of the result, used to type computed columns. */
  type: ColumnType;
  fn: (...args: unknown[]) => unknown;
}

/** Longest regular expression `matches` accepts: a bound on what a pattern can cost per row. */
export const MAX_PATTERN_LENGTH = 200;
/** Longest text `matches` will test; longer input is an error rather than a slow run. */
export const MAX_MATCH_INPUT = 100_000;

const nil = (v: unknown) => v === null || v === undefined;

function str(v: unknown, name: string): string {
  if (typeof v === 'string') return v;
  if (
    typeof v === 'number' ||
    typeof v === 'boolean' ||
    typeof v === 'bigint' ||
    v instanceof Date ||
    v instanceof Decimal
  ) {
    return text(v);
  }
  throw new ExpressionRuntimeError(`${name}() needs text but got ${describe(v)}`);
}

function num(v: unknown, name: string): number {
  if (typeof v === 'number') return v;
  try {
    const n = toNumber(v);
    if (n !== null) return n;
  } catch {}
  throw new ExpressionRuntimeError(`${name}() needs a number but got ${describe(v)}`);
}

function instant(v: unknown, name: string): Date {
  try {
    const d = toTimestamp(v);
    if (d !== null) return d;
  } catch {}
  throw new ExpressionRuntimeError(`${name}() needs a date but got ${describe(v)}`);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats in UTC with the tokens YYYY MM DD HH mm ss SSS SSSSSS; other characters are copied. */
function formatDate(d: Date, pattern: string): string {
  return pattern.replace(/YYYY|MM|DD|HH|mm|ss|SSSSSS|SSS/g, (token) => {
    switch (token) {
      case 'YYYY':
        return pad(d.getUTCFullYear(), 4);
      case 'MM':
        return pad(d.getUTCMonth() + 1);
      case 'DD':
        return pad(d.getUTCDate());
      case 'HH':
        return pad(d.getUTCHours());
      case 'mm':
        return pad(d.getUTCMinutes());
      case 'ss':
        return pad(d.getUTCSeconds());
      case 'SSSSSS':
        return pad(d.getUTCMilliseconds(), 3) + pad(microsOf(d), 3);
      default:
        return pad(d.getUTCMilliseconds(), 3);
    }
  });
}

/** Parses text laid out by a pattern of the same tokens, e.g. date('31.12.2024', 'DD.MM.YYYY'). */
function parseDate(value: string, pattern: string): Date {
  const parts: string[] = [];
  const source = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/YYYY|MM|DD|HH|mm|ss|SSSSSS|SSS/g, (t) => {
      parts.push(t);
      return t === 'YYYY'
        ? '(\\d{4})'
        : t === 'SSSSSS'
          ? '(\\d{6})'
          : t === 'SSS'
            ? '(\\d{3})'
            : '(\\d{1,2})';
    });
  const m = new RegExp(`^${source}$`).exec(value.trim());
  if (!m) throw new ExpressionRuntimeError(`date(): '${value}' does not match the pattern '${pattern}'`);
  const f: Record<string, number> = { YYYY: 1970, MM: 1, DD: 1, HH: 0, mm: 0, ss: 0, SSS: 0 };
  let micros = 0;
  parts.forEach((t, i) => {
    const n = Number(m[i + 1]);
    if (t === 'SSSSSS') {
      f.SSS = Math.floor(n / 1000);
      micros = n % 1000;
    } else f[t] = n;
  });
  const d = instantOf(Date.UTC(f.YYYY!, f.MM! - 1, f.DD!, f.HH!, f.mm!, f.ss!, f.SSS!), micros);
  if (d.getUTCMonth() !== f.MM! - 1 || d.getUTCDate() !== f.DD!) {
    throw new ExpressionRuntimeError(`date(): '${value}' is not a valid date`);
  }
  return d;
}

const regexCache = new Map<string, RegExp>();

export function regex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (re) return re;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new ExpressionRuntimeError(
      `matches(): the pattern is longer than ${MAX_PATTERN_LENGTH} characters`,
    );
  }
  if (!/^[imsu]*$/.test(flags)) throw new ExpressionRuntimeError(`matches(): unknown flags '${flags}'`);
  try {
    re = new RegExp(pattern, flags);
  } catch (err) {
    throw new ExpressionRuntimeError(`matches(): invalid pattern: ${errorMessage(err)}`);
  }
  // Bounded so that per-row dynamic patterns cannot grow memory without limit.
  if (regexCache.size > 1000) regexCache.clear();
  regexCache.set(key, re);
  return re;
}

function round(x: unknown, digits: unknown = 0): number | Decimal | bigint | null {
  if (nil(x)) return null;
  if (typeof x === 'bigint') return x;
  if (x instanceof Decimal) return x.round(Math.trunc(num(digits, 'round')));
  const n = num(x, 'round');
  const f = 10 ** num(digits, 'round');
  // Half away from zero, as in SQL and spreadsheets, rather than Math.round's half up.
  return (Math.sign(n) * Math.round(Math.abs(n) * f + Number.EPSILON * f)) / f;
}

function isExactNumber(x: unknown): x is Decimal | bigint {
  return x instanceof Decimal || typeof x === 'bigint';
}

function absExact(x: Decimal | bigint): Decimal | bigint {
  return typeof x === 'bigint' ? (x < 0n ? -x : x) : x.abs();
}

/** floor (direction -1) or ceil (+1) of an exact number, as an integer by the integer rule. */
function wholePart(x: Decimal | bigint, direction: bigint): number | bigint {
  if (typeof x === 'bigint') return x;
  const scale = BigInt(x.scale);
  const unscaled = x.unscaled();
  const f = 10n ** scale;
  let q = unscaled / f;
  if (q * f !== unscaled && (unscaled < 0n ? direction < 0n : direction > 0n)) q += direction;
  const n = Number(q);
  return Number.isSafeInteger(n) ? n : q;
}

const def = (
  min: number,
  max: number,
  type: ColumnType,
  fn: (...args: unknown[]) => unknown,
  pure = true,
): FunctionDef => ({ min, max, type, fn, pure });

export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map<string, FunctionDef>([
  ['upper', def(1, 1, 'text', (s) => (nil(s) ? null : str(s, 'upper').toUpperCase()))],
  ['lower', def(1, 1, 'text', (s) => (nil(s) ? null : str(s, 'lower').toLowerCase()))],
  ['trim', def(1, 1, 'text', (s) => (nil(s) ? null : str(s, 'trim').trim()))],
  [
    'length',
    def(1, 1, 'integer', (s) => (nil(s) ? null : Array.isArray(s) ? s.length : str(s, 'length').length)),
  ],
  [
    'substr',
    def(2, 3, 'text', (s, start, len) => {
      if (nil(s) || nil(start)) return null;
      // 1-based like SQL; a start before 1 still counts the characters "before" the text.
      const from = Math.trunc(num(start, 'substr')) - 1;
      const end = nil(len) ? undefined : from + Math.trunc(num(len, 'substr'));
      return str(s, 'substr').slice(Math.max(0, from), end === undefined ? undefined : Math.max(0, end));
    }),
  ],
  [
    'replace',
    def(3, 3, 'text', (s, search, by) =>
      nil(s) ? null : str(s, 'replace').replaceAll(text(search), () => text(by)),
    ),
  ],
  ['concat', def(1, 100, 'text', (...args) => args.map(text).join(''))],
  ['coalesce', def(1, 100, 'text', (...args) => args.find((a) => !nil(a)) ?? null)],
  ['round', def(1, 2, 'number', round)],
  [
    'floor',
    def(1, 1, 'number', (x) =>
      nil(x) ? null : isExactNumber(x) ? wholePart(x, -1n) : Math.floor(num(x, 'floor')),
    ),
  ],
  [
    'ceil',
    def(1, 1, 'number', (x) =>
      nil(x) ? null : isExactNumber(x) ? wholePart(x, 1n) : Math.ceil(num(x, 'ceil')),
    ),
  ],
  [
    'abs',
    def(1, 1, 'number', (x) => (nil(x) ? null : isExactNumber(x) ? absExact(x) : Math.abs(num(x, 'abs')))),
  ],
  ['number', def(1, 1, 'number', (x) => toNumber(x))],
  ['decimal', def(1, 1, 'decimal', (x) => toDecimal(x))],
  ['int', def(1, 1, 'integer', (x) => (nil(x) || x === '' ? null : toInteger(Math.trunc(num(x, 'int')))))],
  ['string', def(1, 1, 'text', (x) => toText(x))],
  ['bool', def(1, 1, 'boolean', (x) => toBoolean(x))],
  ['now', def(0, 0, 'timestamp', () => new Date(), false)],
  ['today', def(0, 0, 'date', () => new Date().toISOString().slice(0, 10), false)],
  [
    'date',
    def(1, 2, 'timestamp', (s, pattern) => {
      if (nil(s) || s === '') return null;
      return nil(pattern) ? instant(s, 'date') : parseDate(str(s, 'date'), str(pattern, 'date'));
    }),
  ],
  ['year', def(1, 1, 'integer', (d) => (nil(d) ? null : instant(d, 'year').getUTCFullYear()))],
  ['month', def(1, 1, 'integer', (d) => (nil(d) ? null : instant(d, 'month').getUTCMonth() + 1))],
  ['day', def(1, 1, 'integer', (d) => (nil(d) ? null : instant(d, 'day').getUTCDate()))],
  [
    'format_date',
    def(1, 2, 'text', (d, pattern) =>
      nil(d)
        ? null
        : formatDate(instant(d, 'format_date'), nil(pattern) ? 'YYYY-MM-DD' : str(pattern, 'format_date')),
    ),
  ],
  ['split', def(2, 2, 'json', (s, sep) => (nil(s) ? null : str(s, 'split').split(text(sep))))],
  [
    'contains',
    def(2, 2, 'boolean', (s, part) => {
      if (nil(s) || nil(part)) return null;
      return Array.isArray(s) ? s.includes(part) : str(s, 'contains').includes(text(part));
    }),
  ],
  [
    'starts_with',
    def(2, 2, 'boolean', (s, p) => (nil(s) || nil(p) ? null : str(s, 'starts_with').startsWith(text(p)))),
  ],
  [
    'ends_with',
    def(2, 2, 'boolean', (s, p) => (nil(s) || nil(p) ? null : str(s, 'ends_with').endsWith(text(p)))),
  ],
  [
    'matches',
    def(2, 3, 'boolean', (s, pattern, flags) => {
      if (nil(s) || nil(pattern)) return null;
      const subject = str(s, 'matches');
      if (subject.length > MAX_MATCH_INPUT) {
        throw new ExpressionRuntimeError(`matches(): text longer than ${MAX_MATCH_INPUT} characters`);
      }
      return regex(str(pattern, 'matches'), nil(flags) ? '' : str(flags, 'matches')).test(subject);
    }),
  ],
  ['uuid', def(0, 0, 'text', () => randomUUID(), false)],
  ['md5', def(1, 1, 'text', (s) => (nil(s) ? null : createHash('md5').update(text(s)).digest('hex')))],
  ['sha256', def(1, 1, 'text', (s) => (nil(s) ? null : createHash('sha256').update(text(s)).digest('hex')))],
]);
