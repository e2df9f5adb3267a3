/**
 * The stages a transfer step puts around a source of unknown length: read-ahead, counting, and a look
 * at the first batch before the destination opens. Each holds at most one batch.
 */
import type { Row, RowStream } from '../core/records.js';
import type { StepStats } from './engine-types.js';
import type { StepEnv } from './step-env.js';

/**
 * Asks the source for its next batch while the current one is being transformed and written, so
 * parsing (Node's CPU) overlaps the destination's work (the database's CPU and disk). Holds at most
 * one batch ahead.
 */
export async function* prefetch(stream: RowStream): RowStream {
  const it = stream[Symbol.asyncIterator]();
  let next = it.next();
  next.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      const r = await next;
      if (r.done) {
        finished = true;
        return;
      }
      next = it.next();
      // Marked as handled now: a failing read rejects while the consumer is busy, and is rethrown below.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    if (!finished) {
      // Stopped early (failure or cancel): settle the read in flight, then close the source.
      await next.catch(() => undefined);
      await it.return?.();
    }
  }
}

/** Counts rows as they pass and reports progress at most every 250 ms. */
export async function* counted(
  stream: RowStream,
  stats: StepStats,
  key: 'rowsRead' | 'rowsWritten',
  env: StepEnv,
): RowStream {
  let last = 0;
  for await (const batch of stream) {
    stats[key] += batch.length;
    const now = performance.now();
    if (now - last > 250) {
      last = now;
      env.progress(stats);
    }
    yield batch;
  }
}

/**
 * Pulls the first batch so a destination can be created from real column names before rows flow.
 * `close()` ends the source early (releasing its connection) when the step fails before draining it.
 */
export async function peek(
  stream: RowStream,
): Promise<{ first: Row[]; rest: RowStream; close(): Promise<void> }> {
  const it = stream[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? [] : head.value;
  const rest: RowStream = {
    [Symbol.asyncIterator]: () => it,
  };
  return {
    first,
    rest,
    close: async () => {
      await it.return?.();
    },
  };
}

export async function* prepend(first: Row[], rest: RowStream): RowStream {
  try {
    if (first.length > 0) yield first;
    yield* rest;
  } finally {
    // A consumer that stops after the first batch (a single-row answer) must still end the source, or
    // its connection stays checked out; `rest` was started by peek(), so nothing else would end it.
    await rest[Symbol.asyncIterator]().return?.();
  }
}
