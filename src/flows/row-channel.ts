/**
 * A hand-over of rows from a producer that pushes (an HTTP destination's answers, one per request) to
 * a consumer that pulls batches (a destination writer, a listener's response). Rows pushed while the
 * consumer is busy gather into its next batch; `push` waits once `capacity` rows are waiting, so the
 * producer keeps the consumer's pace and memory stays flat.
 */
import type { Row, RowStream } from '../core/records.js';

export class RowChannel {
  private pending: Row[] = [];
  private ended = false;
  private failure: { err: unknown } | undefined;
  /** The consumer stopped reading (a one-object answer took its row): later pushes are dropped. */
  private left = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capacity = 2000) {}

  /** Hands rows on; waits while `capacity` rows wait for the consumer. Throws once either side failed. */
  async push(rows: Row[]): Promise<void> {
    this.throwIfFailed();
    if (this.ended) throw new Error('RowChannel: push after end');
    if (this.left) return;
    for (const r of rows) this.pending.push(r);
    this.wakeConsumer?.();
    while (this.pending.length >= this.capacity && !this.left) {
      await new Promise<void>((wake) => {
        this.wakeProducer = wake;
      });
      this.throwIfFailed();
    }
  }

  /** No more rows: the consumer's stream ends after those waiting. */
  end(): void {
    this.ended = true;
    this.wakeConsumer?.();
  }

  /** The producer failed, or the consumer did: both sides stop with `err`. */
  fail(err: unknown): void {
    this.failure ??= { err };
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.err;
  }

  /** The consumer's side, read once: every row waiting, as one batch, each time it asks. */
  stream(): RowStream {
    const self = this;
    return (async function* rows(): RowStream {
      try {
        for (;;) {
          self.throwIfFailed();
          if (self.pending.length > 0) {
            const batch = self.pending;
            self.pending = [];
            self.wakeProducer?.();
            yield batch;
            continue;
          }
          if (self.ended) return;
          await new Promise<void>((wake) => {
            self.wakeConsumer = wake;
          });
        }
      } finally {
        self.left = true;
        self.wakeProducer?.();
      }
    })();
  }
}
