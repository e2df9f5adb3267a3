/**
 * Counts CSV records in bytes passing through the copyIn fast path without parsing fields: a record ends
 * at a line feed outside quotes. Lines with no content (only a CR) are not records. The common dialect
 * (escape = quote, where `""` simply toggles the quote state twice) is scanned with indexOf, which runs
 * at memory speed; a distinct escape character needs the byte-by-byte loop.
 */
const LF = 0x0a;
const CR = 0x0d;

export class CsvRecordCounter {
  private readonly q: number;
  private readonly esc: number;
  private inQuote = false;
  /** After an escape byte inside quotes (distinct-escape dialect only). */
  private escaped = false;
  /** The current line has a byte other than CR and LF. */
  private lineHasContent = false;
  private lines = 0;

  constructor(quote = '"', escapeChar = quote) {
    this.q = quote.charCodeAt(0);
    this.esc = escapeChar.charCodeAt(0);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.esc === this.q) this.scanFast(buf);
    else this.scanEscaped(buf);
  }

  private scanFast(buf: Buffer): void {
    const q = this.q;
    const n = buf.length;
    let i = 0;
    // The next quote is remembered while line feeds before it are counted: searching again from every
    // line would rescan quote-free stretches once per line.
    let qt = -2;
    while (i < n) {
      if (this.inQuote) {
        const close = buf.indexOf(q, i);
        if (close === -1) {
          this.lineHasContent = true;
          return;
        }
        this.inQuote = false;
        this.lineHasContent = true;
        i = close + 1;
        continue;
      }
      const nl = buf.indexOf(LF, i);
      if (qt !== -1 && qt < i) qt = buf.indexOf(q, i);
      if (qt !== -1 && (nl === -1 || qt < nl)) {
        this.inQuote = true;
        this.lineHasContent = true;
        i = qt + 1;
        continue;
      }
      if (nl === -1) {
        this.noteContent(buf, i, n);
        return;
      }
      this.noteContent(buf, i, nl);
      if (this.lineHasContent) this.lines++;
      this.lineHasContent = false;
      i = nl + 1;
    }
  }

  /** Marks the line as having content when [from, to) holds more than a lone CR (of a CRLF). */
  private noteContent(buf: Buffer, from: number, to: number): void {
    const len = to - from;
    if (len > 1 || (len === 1 && buf[from] !== CR)) this.lineHasContent = true;
  }

  private scanEscaped(buf: Buffer): void {
    const { q, esc } = this;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.inQuote) {
        if (this.escaped) this.escaped = false;
        else if (c === esc) this.escaped = true;
        else if (c === q) this.inQuote = false;
      } else if (c === q) {
        this.inQuote = true;
        this.lineHasContent = true;
      } else if (c === LF) {
        if (this.lineHasContent) this.lines++;
        this.lineHasContent = false;
      } else if (c !== CR) this.lineHasContent = true;
    }
  }

  /** Records seen, counting an unterminated last line; the header line is the caller's to subtract. */
  end(): number {
    return this.lines + (this.lineHasContent ? 1 : 0);
  }
}
