/**
 * Rows to PostgreSQL COPY text format. Text format (not CSV) because it is the cheapest for the
 * server to parse and needs only backslash escaping: no quoting decisions per field.
 */
import { Decimal } from '../../core/decimal.js';
import { fieldOf, type Row } from '../../core/records.js';
import { stringifyJson } from '../../formats/json-exact.js';

/** Anything escapeText changes: one scan decides for the common text that needs nothing. */
const SPECIAL = /[\\\n\r\t\0]/;
const ESCAPES = /[\\\n\r\t]/g;
const REPLACE: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  // NUL cannot be stored in PostgreSQL text; drop it rather than fail a whole load on a stray byte.
  const clean = s.includes('\0') ? s.replaceAll('\0', '') : s;
  return clean.replace(ESCAPES, (c) => REPLACE[c] ?? c);
}

export function copyTextField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  switch (typeof v) {
    case 'string':
      return escapeText(v);
    case 'number':
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

/** One batch as COPY text lines, in the order of `names`. */
export function copyTextBatch(rows: readonly Row[], names: readonly string[]): string {
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
