/**
 * Checks CSV bytes on their way through a byte fast path with the verdicts of the row path's reader
 * (csv-scan.ts), so that the same file lands the same way, or fails with the same message and line,
 * whichever path the engine takes. A database's own CSV loader is more forgiving than the reader: COPY
 * reads a stray quote in an unquoted field as the start of a quoted one (merging lines until the next
 * stray quote), LOAD DATA keeps it as text, and both report their own line numbers. The guard stops the
 * bytes at the first record the reader would refuse: a quote inside an unquoted field, a character after
 * a closing quote, an unclosed quote, a record with the wrong field count, bytes that are not UTF-8.
 * Lines with no characters are left out, as the reader skips them, and a UTF-8 byte order mark is
 * removed. It also counts the records it passed. What the reader takes but a loader reads otherwise
 * (a lone CR inside an unquoted field, mixed line endings) is refused with CsvFastPathRefused.
 *
 * One pass over each byte, no decoding, no copies unless a line is left out.
 */
import { isUtf8 } from 'node:buffer';
import type { CsvDialect } from './csv-dialect.js';
import { formatError } from './format-error.js';
import { firstInvalidUtf8, invalidBytesError } from './text-decoder.js';

const LF = 0x0a;
const CR = 0x0d;

/** Where the scanner is between bytes (kept across chunks). */
enum At {
  /** At the start of a field (after a delimiter or a line break, or at the start). */
  FieldStart,
  /** Inside an unquoted field. */
  Unquoted,
  /** Inside a quoted field. */
  Quoted,
  /** Just after a quote inside a quoted field: a doubled quote, or the closing one. */
  QuoteInQuoted,
  /** Just after the escape character inside a quoted field (escape distinct from quote). */
  Escaped,
  /** After the closing quote: a delimiter or the end of the line must follow. */
  Closed,
}

/**
 * Bytes the reader takes but a database's loader would read differently (a lone CR in an unquoted
 * field, line endings that change): the byte path does not apply, and the engine takes the row path,
 * the destination having rolled back whatever it had loaded.
 */
export class CsvFastPathRefused extends Error {
  constructor(why: string) {
    super(`the CSV byte path cannot carry this input (${why})`);
    this.name = 'CsvFastPathRefused';
  }
}

export interface CsvByteGuardOptions extends Pick<CsvDialect, 'delimiter' | 'quote' | 'escape' | 'header'> {
  /** Lines with no characters are not records (the reader's skipEmptyLines, on by default). */
  skipEmptyLines?: boolean;
  /** Named in errors, like the reader names it ("orders.csv"). */
  source: string;
}

export class CsvByteGuard {
  private readonly d: number;
  private readonly q: number;
  private readonly esc: number;
  private readonly skipEmpty: boolean;
  private readonly source: string;
  private readonly header: boolean;
  /** The CR that began the current line at the end of the last chunk, held until the line proves non-empty. */
  private held: Buffer | undefined;
  private at = At.FieldStart;
  /** Physical line of the byte being read (1-based, the header is line 1). */
  private line = 1;
  /** Line where the current record, and the current quoted field, start. */
  private recordLine = 1;
  private quoteLine = 1;
  private fields = 1;
  /** Fields of the first record; every record must have as many. */
  private width = -1;
  /** The current line has had a byte other than a final CR. */
  private lineHasContent = false;
  /** A CR was the last byte seen in an unquoted stretch (a CRLF may be split across chunks). */
  private pendingCr = false;
  private records = 0;
  /** How records end: 0 not known yet, 1 LF, 2 CRLF. */
  private lineEnd: 0 | 1 | 2 = 0;
  private offset = 0;
  private started = false;
  /** Bytes of a UTF-8 character split across chunks, checked with the next chunk. */
  private carry: Buffer = Buffer.alloc(0);

  constructor(o: CsvByteGuardOptions) {
    this.d = o.delimiter.charCodeAt(0);
    this.q = o.quote.charCodeAt(0);
    this.esc = o.escape.charCodeAt(0);
    this.skipEmpty = o.skipEmptyLines ?? true;
    this.source = o.source;
    this.header = o.header;
  }

  /** The bytes to pass on for `chunk` (usually `chunk` itself); throws FORMAT_ERROR at a bad record. */
  push(input: Uint8Array): Uint8Array[] {
    let chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (!this.started) {
      if (chunk.length < 3 && this.offset + chunk.length < 3) {
        // Too short to tell a byte order mark; keep it for the next chunk.
        this.carry = Buffer.concat([this.carry, chunk]);
        this.offset += chunk.length;
        return [];
      }
      this.started = true;
      chunk = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
      this.offset -= this.carry.length;
      this.carry = Buffer.alloc(0);
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        chunk = chunk.subarray(3);
        this.offset += 3;
      }
    }
    this.checkUtf8(chunk, false);
    this.offset += chunk.length;
    return this.scan(chunk);
  }

  /** Checks the end of the input; returns the number of records passed (the header included). */
  end(): Uint8Array[] {
    let out: Uint8Array[] = [];
    if (!this.started) {
      this.started = true;
      const rest = this.carry;
      this.carry = Buffer.alloc(0);
      const start = rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf ? 3 : 0;
      this.checkUtf8(rest.subarray(start), true);
      out = this.scan(rest.subarray(start));
    } else this.checkUtf8(Buffer.alloc(0), true);
    if (this.at === At.Quoted || this.at === At.Escaped) this.fail(this.quoteLine, 'unclosed quote');
    // A CR that ends the input right after a closing quote is a character there, as the reader sees
    // it, before the record's field count is known.
    if (this.pendingCr && this.at === At.Closed)
      this.fail(this.line, 'unexpected character after a closing quote');
    const lineHasBytes =
      this.lineHasContent || this.pendingCr || this.at !== At.FieldStart || this.fields > 1;
    const empty = !this.lineHasContent && this.at === At.FieldStart && this.fields === 1;
    if (lineHasBytes && this.endRecord(empty)) {
      // A last line ending in a CR without LF: the reader drops the CR, a loader would keep it.
      if (this.pendingCr) throw new CsvFastPathRefused(`line ${this.line}: a carriage return at the end`);
      if (this.held) out.push(this.held);
    }
    this.held = undefined;
    return out;
  }

  /** Records passed so far (the header included); final after end(). */
  get count(): number {
    return this.records;
  }

  private fail(line: number, message: string): never {
    throw formatError(this.source, `line ${line}`, message);
  }

  /** Throws the reader's error at the first byte that is not UTF-8; holds back a split last character. */
  private checkUtf8(chunk: Buffer, atEnd: boolean): void {
    let bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const before = this.offset - this.carry.length;
    this.carry = Buffer.alloc(0);
    if (!atEnd) {
      const keep = unfinishedTail(bytes);
      if (keep > 0) {
        this.carry = Buffer.from(bytes.subarray(bytes.length - keep));
        bytes = bytes.subarray(0, bytes.length - keep);
      }
    }
    if (isUtf8(bytes)) return;
    const bad = Math.max(firstInvalidUtf8(bytes, atEnd), 0);
    throw invalidBytesError(this.source, 'utf8', before + bad);
  }

  /** COPY and LOAD DATA take one line ending for the whole input, the one of its first line. */
  private checkLineEnd(crlf: boolean): void {
    const end = crlf ? 2 : 1;
    if (this.lineEnd === 0) this.lineEnd = end;
    else if (this.lineEnd !== end) throw new CsvFastPathRefused(`line ${this.line}: mixed line endings`);
  }

  private endRecord(skippable: boolean): boolean {
    if (skippable && this.skipEmpty) return false;
    if (this.width === -1) this.width = this.fields;
    else if (this.fields !== this.width) {
      this.fail(
        this.recordLine,
        `wrong field count: ${this.fields} fields, ${this.header ? 'the header' : 'the first line'} has a different number`,
      );
    }
    this.records++;
    return true;
  }

  private scan(buf: Buffer): Uint8Array[] {
    const { d, q, esc } = this;
    const n = buf.length;
    let out: Uint8Array[] | undefined;
    /** Start of the bytes not yet handed on (only moves when an empty line is left out). */
    let kept = 0;
    let lineStart = 0;
    let at = this.at;
    // A CR held back from the last chunk goes out before this chunk, unless its line proves empty.
    const held = this.held;
    this.held = undefined;
    if (held) out = [held];
    for (let i = 0; i < n; i++) {
      const c = buf[i]!;
      switch (at) {
        case At.FieldStart:
        case At.Unquoted:
        case At.Closed:
          if (c === LF) {
            const empty = !this.lineHasContent && at === At.FieldStart && this.fields === 1;
            const crlf = this.pendingCr;
            this.pendingCr = false;
            this.at = at;
            if (this.endRecord(empty)) this.checkLineEnd(crlf);
            else {
              // Leave the empty line (and its CR) out of what is passed on.
              if (lineStart === 0 && held) out = [];
              out ??= [];
              if (lineStart > kept) out.push(buf.subarray(kept, lineStart));
              kept = i + 1;
            }
            this.line++;
            this.recordLine = this.line;
            this.fields = 1;
            this.lineHasContent = false;
            at = At.FieldStart;
            lineStart = i + 1;
            continue;
          }
          if (this.pendingCr) {
            // A CR not followed by LF is a character of the field (after a closing quote, an error).
            this.pendingCr = false;
            this.lineHasContent = true;
            if (at === At.Closed) this.fail(this.line, 'unexpected character after a closing quote');
            throw new CsvFastPathRefused(`line ${this.line}: a carriage return inside an unquoted field`);
          }
          if (c === CR) {
            this.pendingCr = true;
            continue;
          }
          this.lineHasContent = true;
          if (c === d) {
            this.fields++;
            at = At.FieldStart;
          } else if (at === At.Closed) {
            this.fail(this.line, 'unexpected character after a closing quote');
          } else if (c === q) {
            if (at === At.Unquoted)
              this.fail(
                this.line,
                'quote inside an unquoted field (quote the field, or set lenientQuotes to read such quotes as text)',
              );
            at = At.Quoted;
            this.quoteLine = this.line;
          } else {
            at = At.Unquoted;
            // The rest of an unquoted field, at the speed of a plain loop.
            while (i + 1 < n) {
              const x = buf[i + 1]!;
              if (x === d || x === q || x === LF || x === CR) break;
              i++;
            }
          }
          continue;
        case At.Quoted:
          while (i < n) {
            const x = buf[i]!;
            if (x === q || x === esc || x === LF) break;
            i++;
          }
          if (i === n) continue;
          if (buf[i] === q) at = At.QuoteInQuoted;
          else if (buf[i] === esc && esc !== q) at = At.Escaped;
          else if (buf[i] === LF) this.line++;
          continue;
        case At.QuoteInQuoted:
          if (c === q && esc === q) {
            at = At.Quoted;
            continue;
          }
          // The quote closed the field; this byte is read again after it.
          at = At.Closed;
          i--;
          continue;
        case At.Escaped:
          // An escape before a quote or another escape takes it literally; before anything else it
          // is a character itself, and this byte is read again inside the field.
          if (c !== q && c !== esc) i--;
          at = At.Quoted;
          continue;
      }
    }
    // A quote at the very end of a chunk is resolved by the next one (or by end()).
    this.at = at;
    let end = n;
    if (
      at === At.FieldStart &&
      this.fields === 1 &&
      !this.lineHasContent &&
      lineStart < n &&
      this.skipEmpty
    ) {
      // The line so far is a lone CR: hold it until the next chunk says whether the line is empty.
      this.held = Buffer.from(buf.subarray(lineStart));
      end = lineStart;
    }
    if (out === undefined && kept === 0 && end === n) return [buf];
    out ??= [];
    if (kept < end) out.push(buf.subarray(kept, end));
    return out;
  }
}

/** How many bytes at the end of `b` begin a UTF-8 character that the next chunk completes (0-3). */
function unfinishedTail(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= Math.min(3, n); k++) {
    const c = b[n - k]!;
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return len > k ? k : 0;
    }
  }
  return 0;
}
