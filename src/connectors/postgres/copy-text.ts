/**
 * Rows to PostgreSQL COPY text format. Text format (not CSV) because it is the cheapest for the
 * server to parse and needs only backslash escaping: no quoting decisions per field.
 */
import { Decimal } from '../../core/decimal.js';
import { AppError } from '../../core/errors.js';
import { fieldOf, type Row } from '../../core/records.js';
import { stringifyJson } from '../../formats/json-exact.js';

/** Anything escapeText changes: one scan decides for the common text that needs nothing. */
const SPECIAL = /[\\\n\r\t\0]/;
const ESCAPES = /[\\\n\r\t]/g;
const REPLACE: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Thrown by escapeText for text PostgreSQL cannot store; copyTextBatch names the record and field. */
const NUL_IN_TEXT = new Error('NUL in text');

function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  // PostgreSQL text cannot hold NUL: the value is refused, never changed.
  if (s.includes('\0')) throw NUL_IN_TEXT;
  return s.replace(ESCAPES, (c) => REPLACE[c] ?? c);
}

export function copyTextField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  switch (typeof v) {
    case 'string':
      return escapeText(v);
    case 'number':
      if (Object.is(v, -0)) return '-0';
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 't' : 'f';
    default:
      if (v instanceof Decimal) return v.digits;
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? '\\N' : v.toISOString();
      // bytea hex input is \x..., and the backslash itself must be escaped in text format.
      if (v instanceof Uint8Array)
        return `\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
      return escapeText(stringifyJson(v));
  }
}

/**
 * One batch as COPY text lines, in the order of `names`; `firstRecord` is the number of its first row
 * in the write, for the error that names a value PostgreSQL cannot store.
 */
export function copyTextBatch(rows: readonly Row[], names: readonly string[], firstRecord = 1): string {
  try {
    return copyTextLines(rows, names);
  } catch (err) {
    if (err === NUL_IN_TEXT) refuseNul(rows, names, firstRecord);
    throw err;
  }
}

/**
 * Fails with INVALID_VALUE at the first text value holding NUL, naming its record and field; `names`
 * are the columns written (every field of each row when not given).
 */
export function refuseNul(rows: readonly Row[], names?: readonly string[], firstRecord = 1): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (const name of names ?? Object.keys(row)) {
      const v = fieldOf(row, name);
      if (typeof v !== 'string' || !v.includes('\0')) continue;
      const record = firstRecord + i;
      const shown = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
      const message = `the text ${shown} holds a NUL character (U+0000), which PostgreSQL text cannot store`;
      throw new AppError('INVALID_VALUE', `record ${record}, field '${name}': ${message}`, {
        details: [{ path: `record ${record}/${name}`, message }],
      });
    }
  }
}

function copyTextLines(rows: readonly Row[], names: readonly string[]): string {
  let out = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < names.length; i++) {
      if (i > 0) line += '\t';
      line += copyTextField(fieldOf(row, names[i] ?? ''));
    }
    out += line + '\n';
  }
  return out;
}
