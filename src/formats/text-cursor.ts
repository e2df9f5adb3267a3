import type { ReadContext } from './format.js';
import { DEFAULT_MAX_RECORD_SIZE } from './format.js';
import { formatError } from './format-error.js';

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
  private readonly maxRecord: number;

  /** `ctx` names the input in errors and bounds the record the window may hold unfinished. */
  constructor(
    text: AsyncIterable<string>,
    private readonly ctx: Pick<ReadContext, 'source' | 'maxRecordSize'>,
  ) {
    this.source = text[Symbol.asyncIterator]();
    this.maxRecord = ctx.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
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
    // What is left after the drop is the record being read: past the bound, stop instead of growing.
    if (this.buf.length > this.maxRecord) {
      throw formatError(
        this.ctx.source,
        `line ${this.lineBase}`,
        `a record is longer than the maximum record size (${this.maxRecord} characters); is a line end or a closing quote missing?`,
      );
    }
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
