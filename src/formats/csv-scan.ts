import type { TextCursor } from './text-cursor.js';

/**
 * A hand-written CSV record scanner (RFC 4180 plus a configurable delimiter, quote and escape). It knows
 * whether each field was quoted as it reads it, which is what tells `""` (an empty string) from an empty
 * unquoted field (null) at no extra cost, where a general-purpose parser would have to rescan the raw
 * line after the fact. A line without a quote character is split with indexOf, the common case; a line with one
 * goes through the character loop. Records end at LF or CRLF (a lone CR stays in the field).
 */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  escape: string;
  nullValue: string;
  trim: boolean;
  skipEmptyLines: boolean;
  /** When false, a quoted field equal to nullValue is null too. */
  distinguishQuoted: boolean;
  /** A quote inside an unquoted field is text, not an error. */
  lenientQuotes: boolean;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const LF = 10;
const CR = 13;

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

export class CsvScanner {
  /** Line number where the record last returned by next() starts. */
  recordLine = 1;
  /** The fields of the record last returned by next(); null for null. Reused between records. */
  readonly fields: (string | null)[] = [];
  /** Line number of the text at the cursor. */
  private line = 1;
  private readonly q: number;
  private readonly esc: number;
  private readonly d: number;
  // Next quote / delimiter positions in `window`, so a line does not search past its end again and again.
  private window = '';
  private nextQuote = -2;
  private nextDelim = -2;

  constructor(
    private readonly cur: TextCursor,
    private readonly o: CsvDialect,
  ) {
    this.q = o.quote.charCodeAt(0);
    this.esc = o.escape.charCodeAt(0);
    this.d = o.delimiter.charCodeAt(0);
  }

  /**
   * Reads the next record into `fields`. False when the window holds no complete record: call again after
   * `cur.more()`, or, once the input is done, there are no more records.
   */
  next(): boolean {
    const cur = this.cur;
    const buf = cur.buf;
    if (buf !== this.window) {
      this.window = buf;
      this.nextQuote = -2;
      this.nextDelim = -2;
    }
    const len = buf.length;
    let pos = cur.pos;
    for (;;) {
      if (pos >= len) {
        cur.pos = pos;
        return false;
      }
      const nl = buf.indexOf('\n', pos);
      if (nl === -1 && !cur.done) {
        cur.pos = pos;
        return false;
      }
      const end = nl === -1 ? len : nl;
      const lineEnd = end > pos && buf.charCodeAt(end - 1) === CR ? end - 1 : end;
      if (lineEnd === pos && this.o.skipEmptyLines) {
        pos = end + 1;
        this.line++;
        continue;
      }
      let quoteAt = this.nextQuote;
      if (quoteAt !== -1 && quoteAt < pos) quoteAt = this.nextQuote = buf.indexOf(this.o.quote, pos);
      this.recordLine = this.line;
      if (quoteAt === -1 || quoteAt >= lineEnd) {
        this.split(buf, pos, lineEnd);
        cur.pos = end + 1;
        this.line++;
        return true;
      }
      const next = this.quoted(buf, pos);
      if (next === -1) {
        cur.pos = pos;
        return false;
      }
      cur.pos = next;
      return true;
    }
  }

  private value(raw: string, quoted: boolean): string | null {
    const v = this.o.trim && !quoted ? raw.trim() : raw;
    return v === this.o.nullValue && (!quoted || !this.o.distinguishQuoted) ? null : v;
  }

  /** A line without quotes: fields between delimiters. */
  private split(buf: string, from: number, to: number): void {
    const f = this.fields;
    f.length = 0;
    let p = from;
    for (;;) {
      let d = this.nextDelim;
      if (d !== -1 && d < p) d = this.nextDelim = buf.indexOf(this.o.delimiter, p);
      if (d === -1 || d >= to) {
        f.push(this.value(buf.slice(p, to), false));
        return;
      }
      f.push(this.value(buf.slice(p, d), false));
      p = d + 1;
    }
  }

  /**
   * A record with quotes, character by character. Returns the index after the record, or -1 when the
   * window ends inside it (the record is read again from its start after a refill).
   */
  private quoted(buf: string, from: number): number {
    const { q, esc, d } = this;
    const { trim } = this.o;
    const len = buf.length;
    const done = this.cur.done;
    const f = this.fields;
    f.length = 0;
    let lines = 0;
    let i = from;
    for (;;) {
      // one field
      if (trim) while (i < len && isBlank(buf.charCodeAt(i))) i++;
      if (i < len && buf.charCodeAt(i) === q) {
        const openedAt = this.line + lines;
        i++;
        let val = '';
        let seg = i;
        for (;;) {
          if (i >= len) {
            if (!done) return -1;
            throw new CsvSyntaxError('unclosed quote', openedAt);
          }
          const c = buf.charCodeAt(i);
          if (c === esc && esc !== q && i + 1 < len) {
            const n = buf.charCodeAt(i + 1);
            if (n === q || n === esc) {
              val += buf.slice(seg, i);
              seg = i + 1;
              i += 2;
              continue;
            }
          }
          if (c === q) {
            if (i + 1 >= len && !done) return -1;
            if (esc === q && buf.charCodeAt(i + 1) === q) {
              val += buf.slice(seg, i + 1);
              i += 2;
              seg = i;
              continue;
            }
            val += buf.slice(seg, i);
            i++;
            break;
          }
          if (c === LF) lines++;
          else if (c === esc && esc !== q && i + 1 >= len && !done) return -1;
          i++;
        }
        if (trim) while (i < len && isBlank(buf.charCodeAt(i))) i++;
        f.push(this.value(val, true));
      } else {
        const start = i;
        for (;;) {
          if (i >= len) break;
          const c = buf.charCodeAt(i);
          if (c === d || c === LF) break;
          if (c === CR) {
            if (i + 1 >= len && !done) return -1;
            if (buf.charCodeAt(i + 1) === LF) break;
          }
          if (c === q && !this.o.lenientQuotes)
            throw new CsvSyntaxError(
              'quote inside an unquoted field (quote the field, or set lenientQuotes to read such quotes as text)',
              this.line + lines,
            );
          i++;
        }
        if (i >= len && !done) return -1;
        f.push(this.value(buf.slice(start, i), false));
      }
      // after a field: delimiter, end of record, or end of input
      if (i >= len) {
        if (!done) return -1;
        this.line += lines + 1;
        return i;
      }
      const c = buf.charCodeAt(i);
      if (c === d) {
        i++;
        continue;
      }
      if (c === CR && i + 1 >= len && !done) return -1;
      if (c === LF || (c === CR && buf.charCodeAt(i + 1) === LF)) {
        this.line += lines + 1;
        return c === LF ? i + 1 : i + 2;
      }
      throw new CsvSyntaxError('unexpected character after a closing quote', this.line + lines);
    }
  }
}
