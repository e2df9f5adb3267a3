/**
 * A sliding window over decoded text for hand-written scanners. Text before `pos` is dropped whenever
 * more is pulled in, so memory holds at most the current record plus one chunk, never the whole input.
 * Line and column are counted lazily (only for error messages) from what was dropped plus the window.
 */
export class TextCursor {
  buf = '';
  pos = 0;
  done = false;
  private lineBase = 1;
  /** Characters between the last dropped newline and the start of `buf`. */
  private columnBase = 0;
  private readonly source: AsyncIterator<string>;

  constructor(text: AsyncIterable<string>) {
    this.source = text[Symbol.asyncIterator]();
  }

  /** Appends the next chunk, dropping consumed text first. Indexes below `pos` become invalid. */
  async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.drop();
    // join() builds one flat string; `+` would make a rope that every charCodeAt must walk through.
    this.buf = this.pos === this.buf.length ? next.value : [this.buf, next.value].join('');
    this.pos = 0;
    return true;
  }

  private drop(): void {
    const gone = this.pos;
    if (gone === 0) return;
    let nl = this.buf.indexOf('\n');
    let last = -1;
    while (nl !== -1 && nl < gone) {
      this.lineBase++;
      last = nl;
      nl = this.buf.indexOf('\n', nl + 1);
    }
    this.columnBase = last === -1 ? this.columnBase + gone : gone - last - 1;
    this.buf = this.buf.slice(gone);
    this.pos = 0;
  }

  /** 1-based line and column of an index inside the window. */
  where(index: number): { line: number; column: number } {
    let line = this.lineBase;
    let last = -1;
    for (let nl = this.buf.indexOf('\n'); nl !== -1 && nl < index; nl = this.buf.indexOf('\n', nl + 1)) {
      line++;
      last = nl;
    }
    const column = last === -1 ? this.columnBase + index + 1 : index - last;
    return { line, column };
  }

  /** Stops the source early (the consumer broke off), so files and sockets are released. */
  async close(): Promise<void> {
    await this.source.return?.();
  }
}
