import type { Row } from '../../core/records.js';

/**
 * Turns Writer.write() calls into the RowStream a format's writer consumes. At most one batch waits in
 * between, so a slow disk slows the producer instead of filling memory.
 */
export class BatchChannel implements AsyncIterable<Row[]> {
  private items: Row[][] = [];
  private done = false;
  private failure: unknown;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  async push(batch: Row[]): Promise<void> {
    if (this.done) throw new Error('write after the writer was closed');
    this.items.push(batch);
    this.wake();
    while (this.items.length > 1 && !this.done) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      });
    }
  }

  end(): void {
    this.done = true;
    this.wake();
  }

  /** Stops the consumer with `err` (rollback); pending batches are discarded. */
  abort(err: unknown): void {
    this.failure = err;
    this.items = [];
    this.end();
  }

  private wake(): void {
    const c = this.wakeConsumer;
    const p = this.wakeProducer;
    this.wakeConsumer = undefined;
    this.wakeProducer = undefined;
    c?.();
    p?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Row[]> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const next = this.items.shift();
      if (next) {
        this.wake();
        yield next;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
    }
  }
}
