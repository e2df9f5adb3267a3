/**
 * Value semantics of the expression language, kept apart from the compiler so they are easy to read
 * and test. Rules: null propagates through arithmetic and functions; every comparison with null is
 * false (use `is null`); numeric text compares and computes as a number when the other side is a
 * number, because CSV files deliver every value as text. An exact operand (a Decimal or a bigint) makes
 * the arithmetic exact (see exactArithmetic) and the comparison exact, so no digit is lost to a double.
 */

import { Decimal } from '../core/decimal.js';
import { compareInstants, parseTimestamp } from '../core/timestamp.js';
import { stringifyJson } from '../formats/json-exact.js';
import { ExpressionRuntimeError } from './expression-error.js';

const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

export function isNumericText(value: string): boolean {
  return NUMBER_TEXT.test(value);
}

/** The number an arithmetic operand stands for; `label` names where it came from (a column). */
export function operandNumber(value: unknown, op: string, label: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) return Number(value);
  throw new ExpressionRuntimeError(`'${op}' needs a number but ${label} is ${describe(value)}`);
}

/** Whether an operand asks for exact arithmetic. */
export function isExact(value: unknown): value is Decimal | bigint {
  return typeof value === 'bigint' || value instanceof Decimal;
}

/** The exact value of an operand next to an exact one; `label` names where it came from. */
function operandDecimal(value: unknown, op: string, label: string): Decimal {
  if (value instanceof Decimal) return value;
  if (typeof value === 'bigint') return Decimal.from(value);
  if (typeof value === 'number' && Number.isFinite(value)) return Decimal.from(value);
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) {
    const d = Decimal.parse(value);
    if (d) return d;
  }
  throw new ExpressionRuntimeError(`'${op}' needs a number but ${label} is ${describe(value)}`);
}

function isWhole(value: unknown): value is bigint | number {
  return typeof value === 'bigint' || Number.isSafeInteger(value);
}

/**
 * Arithmetic with a Decimal or bigint operand (the other one a number, numeric text, or exact too):
 * integers (bigint or safe number) on both sides give an integer by the integer rule for + - * %;
 * otherwise the result is a Decimal: + - * % exact, / rounded as Decimal.div says.
 */
export function exactArithmetic(
  op: '+' | '-' | '*' | '/' | '%',
  a: unknown,
  b: unknown,
  ll: string,
  rl: string,
): number | bigint | Decimal {
  if (op !== '/' && isWhole(a) && isWhole(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    if (op === '%' && y === 0n) throw new ExpressionRuntimeError(`division by zero: ${rl} is 0`);
    const r = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x % y;
    const n = Number(r);
    return Number.isSafeInteger(n) ? n : r;
  }
  const x = operandDecimal(a, op, ll);
  const y = operandDecimal(b, op, rl);
  if ((op === '/' || op === '%') && y.isZero())
    throw new ExpressionRuntimeError(`division by zero: ${rl} is 0`);
  switch (op) {
    case '+':
      return x.add(y);
    case '-':
      return x.sub(y);
    case '*':
      return x.mul(y);
    case '/':
      return x.div(y);
    default:
      return x.mod(y);
  }
}

/** Negation keeping an exact operand exact. */
export function negate(value: unknown, label: string): unknown {
  if (value instanceof Decimal) return value.neg();
  if (typeof value === 'bigint') return -value;
  return -operandNumber(value, '-', label);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (value instanceof Decimal)
    return value.digits.length > 40 ? `${value.digits.slice(0, 40)}…` : value.digits;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

export function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (value instanceof Decimal) return !value.isZero();
  return !(typeof value === 'number' && Number.isNaN(value)) && value !== 0n;
}

/**
 * Orders two non-null values: negative, zero or positive, or NaN when they cannot be compared.
 * Numbers against numeric text compare as numbers; dates compare by instant, to the microsecond (also
 * against timestamp text); anything else compares as text.
 */
export function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'string') return NUMBER_TEXT.test(b) ? a - Number(b) : Number.NaN;
  if (typeof a === 'string' && typeof b === 'number') return NUMBER_TEXT.test(a) ? Number(a) - b : Number.NaN;
  if (a instanceof Date && b instanceof Date) return compareInstants(a, b);
  if (a instanceof Date && typeof b === 'string') return compareInstantText(a, b);
  if (typeof a === 'string' && b instanceof Date) return -compareInstantText(b, a);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (isExact(a) || isExact(b)) return compareExact(a, b);
  const sa = comparableText(a);
  const sb = comparableText(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return a !== null && a !== undefined;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return compare(a, b) === 0;
}

/** A date against timestamp text compares as instants (to the microsecond); other text as text. */
function compareInstantText(a: Date, b: string): number {
  const t = parseTimestamp(b.trim());
  if (t) return compareInstants(a, t);
  const sa = a.toISOString();
  return sa < b ? -1 : sa > b ? 1 : 0;
}

/** Exact order of a Decimal or bigint against a number, numeric text or another exact value; NaN otherwise. */
function compareExact(a: unknown, b: unknown): number {
  const x = exactOrUndefined(a);
  const y = exactOrUndefined(b);
  return x && y ? x.compare(y) : Number.NaN;
}

function exactOrUndefined(v: unknown): Decimal | undefined {
  if (v instanceof Decimal) return v;
  if (typeof v === 'bigint') return Decimal.from(v);
  if (typeof v === 'number') return Number.isFinite(v) ? Decimal.from(v) : undefined;
  if (typeof v === 'string' && NUMBER_TEXT.test(v)) return Decimal.parse(v);
  return undefined;
}

function comparableText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Decimal) return value.digits;
  if (typeof value === 'object' && value !== null) return stringifyJson(value);
  return String(value);
}

/** Text form used by `&`, concat() and string functions. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Decimal) return value.digits;
  if (typeof value === 'object') return stringifyJson(value);
  return String(value);
}
