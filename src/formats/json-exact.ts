/**
 * JSON text to values and back without passing a number through a double that cannot hold it.
 *
 * Reading: JSON.parse is kept for speed; only text that may hold such a number (a number token with 16
 * or more digits, or an exponent of 300 or more) is parsed again here, where each number token whose
 * value a double changes becomes a bigint (integer tokens) or a Decimal. "1.10" or "1e2" stay numbers:
 * the double holds their value. Writing: Decimal and bigint are printed as JSON numbers with every digit.
 */
import { randomUUID } from 'node:crypto';
import { Decimal, numberOfText } from '../core/decimal.js';
import { setField } from '../core/records.js';

/**
 * A number token with 16+ digits (the most a double keeps exactly is 15 significant ones) or with an
 * exponent a double overflows or underflows; the lookahead (what may follow a number) leaves out most
 * digit runs inside strings such as ids and UUIDs. A match inside a string costs a slower parse only.
 */
const MAYBE_INEXACT =
  /\d[\d.]{15,}(?:[eE][+-]?\d+)?(?=[\s,\]}]|$)|\d[eE][+-]?(?:[3-9]\d\d|\d{4,})(?=[\s,\]}]|$)/;

/** Whether `text` may hold a number a double cannot keep (see MAYBE_INEXACT). */
export function mayHoldInexactNumber(text: string): boolean {
  return MAYBE_INEXACT.test(text);
}

/** JSON.parse, keeping numbers exact (see the file comment). Throws what JSON.parse throws. */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return mayHoldInexactNumber(text) ? parseExact(text) : value;
}

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A recursive-descent parse of text JSON.parse has accepted already, numbers kept exact. */
function parseExact(text: string): unknown {
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  };
  const str = (): string => {
    let j = i + 1;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q === -1) throw new SyntaxError('unterminated string');
      let slashes = 0;
      for (let k = q - 1; text.charCodeAt(k) === 92; k--) slashes++;
      if ((slashes & 1) === 0) {
        const s: unknown = JSON.parse(text.slice(i, q + 1));
        i = q + 1;
        return typeof s === 'string' ? s : '';
      }
      j = q + 1;
    }
  };
  const value = (): unknown => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 34) return str();
    if (c === 123) {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text.charCodeAt(i) === 125) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // ':'
        setField(obj, key, value());
        ws();
        if (text.charCodeAt(i++) === 125) return obj;
      }
    }
    if (c === 91) {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text.charCodeAt(i) === 93) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text.charCodeAt(i++) === 93) return arr;
      }
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER_TOKEN.lastIndex = i;
    const m = NUMBER_TOKEN.exec(text);
    if (!m) throw new SyntaxError(`unexpected character at position ${i}`);
    i += m[0].length;
    return numberOfText(m[0]);
  };
  return value();
}

/** Marks a Decimal or bigint in JSON.stringify's output so its digits can replace the quoted marker. */
const MARK = `\u0000${randomUUID()}:`;
const MARKED = new RegExp(`"\\\\u0000${MARK.slice(1)}([-0-9.]+)"`, 'g');

/**
 * JSON text of a value, Decimal and bigint as numbers with every digit, bytes as base64. Rows without
 * either pay only for the replacer JSON.stringify calls anyway.
 */
export function stringifyJson(value: unknown, indent?: number): string {
  let marked = false;
  const text = JSON.stringify(
    value,
    function (this: Record<string, unknown>, key: string, v: unknown): unknown {
      if (typeof v === 'string') {
        // Decimal's toJSON has already turned it into its digits; the holder still has the Decimal.
        if (this[key] instanceof Decimal) {
          marked = true;
          return MARK + v;
        }
        return v;
      }
      if (typeof v === 'bigint') {
        marked = true;
        return MARK + v.toString();
      }
      // JSON.stringify writes -0 as 0; `-0` is a JSON number too, and reads back as -0.
      if (v === 0 && Object.is(v, -0)) {
        marked = true;
        return `${MARK}-0`;
      }
      if (typeof v === 'object' && v !== null) {
        // A Buffer's own toJSON has run already too.
        const raw = this[key];
        if (raw instanceof Uint8Array)
          return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
      }
      return v;
    },
    indent,
  );
  return marked ? text.replace(MARKED, '$1') : text;
}
