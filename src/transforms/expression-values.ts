/**
 * Value semantics of the expression language, kept apart from the compiler so they are easy to read
 * and test. Rules: null propagates through arithmetic and functions; every comparison with null is
 * false (use `is null`); numeric text compares and computes as a number when the other side is a
 * number, because CSV files deliver every value as text.
 */
import { ExpressionRuntimeError } from './expression-error.js';

const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

export function isNumericText(value: string): boolean {
  return NUMBER_TEXT.test(value);
}

/** The number an arithmetic operand stands for; `label` names where it came from (a column). */
export function operandNumber(value: unknown, op: string, label: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMBER_TEXT.test(value)) return Number(value);
  if (typeof value === 'bigint') return Number(value);
  throw new ExpressionRuntimeError(`'${op}' needs a number but ${label} is ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

export function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  return !(typeof value === 'number' && Number.isNaN(value));
}

/**
 * Orders two non-null values: negative, zero or positive, or NaN when they cannot be compared.
 * Numbers against numeric text compare as numbers; dates compare by instant (and against ISO text
 * as text, which orders the same way); anything else compares as text.
 */
export function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'string') return NUMBER_TEXT.test(b) ? a - Number(b) : Number.NaN;
  if (typeof a === 'string' && typeof b === 'number') return NUMBER_TEXT.test(a) ? Number(a) - b : Number.NaN;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'bigint' || typeof b === 'bigint') return Number(a) - Number(b);
  const sa = comparableText(a);
  const sb = comparableText(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return a !== null && a !== undefined;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return compare(a, b) === 0;
}

function comparableText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Text form used by `&`, concat() and string functions. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
