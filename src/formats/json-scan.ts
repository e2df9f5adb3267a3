import { MAX_NESTING } from '../core/nesting.js';
import type { Row } from '../core/records.js';
import { parseJson } from './json-exact.js';
import { isRow } from './rows.js';
import type { TextCursor } from './text-cursor.js';

/**
 * Finds JSON value boundaries without building values, so each record's text can be handed to the
 * engine's JSON.parse (far faster than any JS-level tokenizer). Only strings and bracket depth are
 * tracked: JSON.parse validates the slice afterwards.
 */

const QUOTE = 34;
const BACKSLASH = 92;
/** What the scanners return for a value that nests deeper than MAX_NESTING. */
export const TOO_DEEP = -2;

/** Index after the closing quote of a string whose body starts at `i`, or -1 if the window ends first. */
function stringEnd(buf: string, i: number): number {
  for (;;) {
    const q = buf.indexOf('"', i);
    if (q === -1) return -1;
    let slashes = 0;
    for (let k = q - 1; buf.charCodeAt(k) === BACKSLASH; k--) slashes++;
    if ((slashes & 1) === 0) return q + 1;
    i = q + 1;
  }
}

/** Scan state kept between window refills while one value is incomplete. */
interface ScanState {
  depth: number;
  inString: boolean;
  /** Digits and points in a row outside strings, and whether a number may be beyond a double. */
  run?: number;
  inexact?: boolean;
}

/**
 * Continues a composite value scan from `i`; returns its end index, -1 when the window runs out, or
 * TOO_DEEP.
 */
function compositeEnd(buf: string, i: number, st: ScanState): number {
  const len = buf.length;
  let depth = st.depth;
  while (i < len) {
    if (st.inString) {
      const e = stringEnd(buf, i);
      if (e === -1) {
        st.depth = depth;
        return -1;
      }
      st.inString = false;
      i = e;
      continue;
    }
    const c = buf.charCodeAt(i++);
    if ((c >= 48 && c <= 57) || c === 46) {
      // 16 digits (a double keeps 15 exactly) or an exponent: this value may need the exact parse.
      if (st.run !== undefined && ++st.run >= 16) st.inexact = true;
      continue;
    }
    if (st.run !== undefined) {
      if ((c === 101 || c === 69) && st.run > 0) st.inexact = true;
      st.run = 0;
    }
    if (c === QUOTE) st.inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_NESTING) return TOO_DEEP;
    } else if (c === 125 || c === 93) {
      if (--depth === 0) return i;
    }
  }
  st.depth = depth;
  return -1;
}

function isDelimiter(c: number): boolean {
  return c === 44 || c === 93 || c === 125 || c === 32 || c === 10 || c === 13 || c === 9 || c === 58;
}

/**
 * The end index of the value starting at `cur.pos` (which must not be whitespace). Refills the window as
 * needed; `cur.pos` stays at the value's start (it may move as text before it is dropped).
 * Returns -1 when the input ends inside the value, TOO_DEEP when it nests deeper than MAX_NESTING.
 */
export async function valueEnd(cur: TextCursor): Promise<number> {
  const first = cur.buf.charCodeAt(cur.pos);
  const st: ScanState = { depth: 0, inString: false };
  let rel = 0;
  if (first === 123 || first === 91) {
    st.depth = 1;
    rel = 1;
  } else if (first === QUOTE) {
    st.inString = true;
    rel = 1;
  }
  for (;;) {
    const from = cur.pos + rel;
    let end: number;
    if (first === 123 || first === 91) end = compositeEnd(cur.buf, from, st);
    else if (first === QUOTE) end = stringEnd(cur.buf, from);
    else {
      end = -1;
      for (let i = from; i < cur.buf.length; i++) {
        if (isDelimiter(cur.buf.charCodeAt(i))) {
          end = i;
          break;
        }
      }
    }
    if (end !== -1) return end;
    rel = cur.buf.length - cur.pos;
    if (!(await cur.more())) return first === QUOTE || first === 123 || first === 91 ? -1 : cur.buf.length;
  }
}

/** Skips whitespace; returns the next character code at `cur.pos`, or -1 at the end of input. */
export async function peek(cur: TextCursor): Promise<number> {
  for (;;) {
    const buf = cur.buf;
    let i = cur.pos;
    while (i < buf.length) {
      const c = buf.charCodeAt(i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) {
        cur.pos = i;
        return c;
      }
      i++;
    }
    cur.pos = i;
    if (!(await cur.more())) return -1;
  }
}

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * The fast path of array reading: takes every record that lies complete in the window (an object
 * followed by `,` or `]`) without awaiting, advancing `cur.pos` past each. Stops at the first record
 * that is incomplete or unusual, leaving it to the careful path, which refills and reports errors.
 */
export function takeComplete(
  cur: TextCursor,
  batch: Row[],
  batchSize: number,
): { count: number; closed: boolean } {
  const buf = cur.buf;
  let i = cur.pos;
  let count = 0;
  while (batch.length < batchSize && buf.charCodeAt(i) === 123) {
    const st: ScanState = { depth: 1, inString: false, run: 0, inexact: false };
    const end = compositeEnd(buf, i + 1, st);
    if (end < 0) break;
    let j = end;
    while (j < buf.length && isWhitespace(buf.charCodeAt(j))) j++;
    const after = buf.charCodeAt(j);
    if (after !== 44 && after !== 93) break;
    let value: unknown;
    try {
      const text = buf.slice(i, end);
      value = st.inexact ? parseJson(text) : JSON.parse(text);
    } catch {
      break;
    }
    if (!isRow(value)) break;
    batch.push(value);
    count++;
    if (after === 93) {
      cur.pos = j + 1;
      return { count, closed: true };
    }
    i = j + 1;
    while (i < buf.length && isWhitespace(buf.charCodeAt(i))) i++;
    cur.pos = i;
  }
  return { count, closed: false };
}
