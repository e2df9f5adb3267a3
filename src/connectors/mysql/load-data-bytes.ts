/**
 * Rewrites CSV bytes so that LOAD DATA reads them as the row path's CSV reader does. LOAD DATA cannot
 * tell a quoted `""` (empty text) from an empty field, reads an unquoted `NULL` as null, and (with an
 * escape character) reads `\n`, `\t`, `\0`, `\N` as escapes. So the bytes are loaded with
 * `ESCAPED BY '\\'` after this rewrite: an unquoted field equal to the null text becomes `\N` (the
 * only null LOAD DATA cannot mistake), an unquoted `NULL` that is text becomes `"NULL"`, and every
 * backslash that is data is doubled. Quoted fields keep their quotes, so `""` stays empty text.
 *
 * The input has passed the CSV byte guard (well-formed, quotes only where the reader allows them, no
 * lone CR outside quotes), in a dialect whose escape is the quote itself or a backslash.
 */
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const NULL_TEXT = Buffer.from('NULL');

enum At {
  FieldStart,
  Quoted,
  /** After a backslash escape inside a quoted field (escape = backslash). */
  Escaped,
  /** After the closing quote of a field (or the first of a doubled quote inside one). */
  AfterQuote,
}

export class LoadDataBytes {
  private readonly d: number;
  private readonly q: number;
  private readonly backslashEscapes: boolean;
  private readonly nullText: Buffer;
  /** `NULL` that is text, quoted so that LOAD DATA does not read it as null. */
  private readonly quotedNull: Buffer;
  /** What an empty unquoted field becomes: `\N` when the empty text is the null text. */
  private readonly emptyField: Buffer;
  private at = At.FieldStart;
  /** The start of an unquoted field the last chunk ended in, read again with the next chunk. */
  private carry: Buffer | undefined;
  /** The bytes so far end with a delimiter outside quotes (the last field may be empty). */
  private endsWithDelimiter = false;

  constructor(o: { delimiter: string; quote: string; escape: string; nullValue: string }) {
    this.d = o.delimiter.charCodeAt(0);
    this.q = o.quote.charCodeAt(0);
    this.backslashEscapes = o.escape === '\\' && o.quote !== '\\';
    this.nullText = Buffer.from(o.nullValue);
    this.quotedNull = Buffer.from([this.q, ...NULL_TEXT, this.q]);
    this.emptyField = o.nullValue === '' ? Buffer.from('\\N') : Buffer.alloc(0);
  }

  /** Whether LoadDataBytes can carry a dialect with this escape character. */
  static takes(escapeChar: string, quote: string): boolean {
    return escapeChar === quote || escapeChar === '\\';
  }

  push(input: Uint8Array): Buffer {
    const chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    return this.scan(buf, false);
  }

  /** The bytes still held at the end of the input. */
  end(): Buffer {
    const rest = this.carry ?? Buffer.alloc(0);
    this.carry = undefined;
    const out = this.scan(rest, true);
    // The input ends in a delimiter: its last field is empty (scan saw no byte of it).
    if (this.at === At.FieldStart && rest.length === 0 && this.endsWithDelimiter)
      return Buffer.concat([out, this.emptyField]);
    return out;
  }

  private scan(buf: Buffer, last: boolean): Buffer {
    const { d, q } = this;
    const n = buf.length;
    // Each byte at most doubles; a field becomes at most `"NULL"`.
    const out = Buffer.allocUnsafe(n * 2 + 8);
    let o = 0;
    let at = this.at;
    let i = 0;
    while (i < n) {
      const c = buf[i]!;
      if (at === At.FieldStart) {
        if (c === q) {
          out[o++] = c;
          at = At.Quoted;
          i++;
          continue;
        }
        // An unquoted field: find its end, then write it (or what stands for it).
        const start = i;
        let backslashes = false;
        let e = i;
        while (e < n) {
          const x = buf[e]!;
          // (The guard lets a CR outside quotes through only before LF, or as the last byte.)
          if (x === d || x === LF || x === CR) break;
          if (x === BACKSLASH) backslashes = true;
          e++;
        }
        if (!last && (e >= n || (buf[e] === CR && e + 1 >= n))) {
          // The field (or a CR that begins a CRLF) goes on in the next chunk: read it again then.
          this.carry = Buffer.from(buf.subarray(start));
          break;
        }
        o = this.writeField(buf, start, e, backslashes, out, o);
        at = At.FieldStart;
        i = e;
        if (i < n) {
          // The delimiter or line break after the field.
          out[o++] = buf[i]!;
          if (buf[i] === CR && i + 1 < n) out[o++] = buf[++i]!;
          i++;
        }
        continue;
      }
      if (at === At.Quoted) {
        // Bytes up to the next quote or backslash go through as they are.
        let e = i;
        while (e < n) {
          const x = buf[e]!;
          if (x === q || x === BACKSLASH) break;
          e++;
        }
        if (e - i > 32) o += buf.copy(out, o, i, e);
        else for (let k = i; k < e; k++) out[o++] = buf[k]!;
        i = e;
        if (i >= n) break;
        const x = buf[i]!;
        out[o++] = x;
        if (x === q) at = At.AfterQuote;
        else if (this.backslashEscapes) at = At.Escaped;
        // A backslash that is data: LOAD DATA reads `\\` as one.
        else out[o++] = BACKSLASH;
        i++;
        continue;
      }
      if (at === At.Escaped) {
        // `\"` and `\\` mean to LOAD DATA what they mean to the reader; before anything else the
        // backslash was data, so it is doubled (the one already written plus this one).
        if (c !== q && c !== BACKSLASH) out[o++] = BACKSLASH;
        else {
          out[o++] = c;
          i++;
        }
        at = At.Quoted;
        continue;
      }
      // AfterQuote: a doubled quote inside the field, or what follows the closing quote.
      out[o++] = c;
      i++;
      if (c === q) at = At.Quoted;
      else if (c === d || c === LF) at = At.FieldStart;
    }
    this.at = at;
    if (n > 0 && this.carry === undefined) this.endsWithDelimiter = buf[n - 1] === d && at === At.FieldStart;
    return out.subarray(0, o);
  }

  /** Writes the unquoted field buf[start, end) to out at o, as LOAD DATA must read it; returns the new o. */
  private writeField(
    buf: Buffer,
    start: number,
    end: number,
    backslashes: boolean,
    out: Buffer,
    o: number,
  ): number {
    const len = end - start;
    const nullText = this.nullText;
    if (len === nullText.length && sameBytes(buf, start, nullText)) {
      out[o++] = BACKSLASH;
      out[o++] = 0x4e; // N
      return o;
    }
    if (len === 4 && sameBytes(buf, start, NULL_TEXT)) return o + this.quotedNull.copy(out, o);
    if (backslashes) {
      for (let k = start; k < end; k++) {
        const x = buf[k]!;
        if (x === BACKSLASH) out[o++] = BACKSLASH;
        out[o++] = x;
      }
      return o;
    }
    if (len > 32) return o + buf.copy(out, o, start, end);
    for (let k = start; k < end; k++) out[o++] = buf[k]!;
    return o;
  }
}

function sameBytes(buf: Buffer, at: number, text: Buffer): boolean {
  for (let k = 0; k < text.length; k++) if (buf[at + k] !== text[k]) return false;
  return true;
}
