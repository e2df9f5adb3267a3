/**
 * Keyed coalescing: items submitted for a key while a flush of that key is under way wait, and the next
 * flush takes them all (up to a limit), so a busy key pays one statement, round trip or transaction per
 * burst instead of one per item. Each item's promise settles exactly once, with its own result or error,
 * and only after its flush has ended. Used by the audit trail's group commit and by the PostgreSQL
 * connector's shared small writes and shared point reads.
 */

/**
 * What happens to the items of a batch whose flush failed. A batch of one item fails with the error
 * whatever the policy.
 * - `fail-all`: every item fails with the error (they stand or fall together).
 * - `retry-each`: every item is flushed again alone, so one bad item does not fail its neighbours. For a
 *   flush that is all or nothing (a transaction, one statement): nothing of a failed batch was done.
 * - `retry-rest`: the flush says how far it got by throwing a BatchFailure: the items before the one that
 *   failed keep their results, that one and every one after it are flushed again alone. Any other error
 *   counts as a failure of the first item.
 */
export type FailurePolicy = 'fail-all' | 'retry-each' | 'retry-rest';

/**
 * Thrown by a flush to say that its first `results.length` items succeeded (with these results) and the
 * next one failed with `cause`; the items after it were not done. Read under the `retry-rest` policy.
 */
export class BatchFailure<R> extends Error {
  constructor(
    readonly results: readonly R[],
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** What one flush is given: items of one key, in the order they were submitted. */
export interface Batch<T> {
  items: readonly T[];
  /**
   * Aborts when the signal of an item in the batch aborts while the flush is under way (the flush may
   * stop what it sent); undefined when no item has a signal.
   */
  signal: AbortSignal | undefined;
}

export interface CoalescerOptions<T, R> {
  /** Does the items of one batch and returns one result per item, in order. */
  flush: (batch: Batch<T>) => Promise<readonly R[]>;
  /** The policy for every failure, or one chosen by the error a flush threw. */
  onFailure: FailurePolicy | ((error: unknown) => FailurePolicy);
  /** The most a batch may weigh (see `weight`); a heavier item goes alone. Default: no limit. */
  maxBatch?: number;
  /** What an item weighs towards `maxBatch`. Default: 1. */
  weight?: (item: T) => number;
  /** The error an item settles with when its signal aborted. Default: the signal's reason. */
  cancelled?: (signal: AbortSignal) => unknown;
  /** Told of every failed flush (before its items are settled or tried again), with its size. */
  report?: (error: unknown, size: number) => void;
}

const WAITING = 0;
const SENT = 1;
const DONE = 2;

interface Entry<T, R> {
  item: T;
  signal: AbortSignal | undefined;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  /** WAITING: queued (a cancel settles it at once); SENT: in a flush under way; DONE: settled. */
  state: typeof WAITING | typeof SENT | typeof DONE;
  /** Aborts the flush the item is in, while it is SENT. */
  batch: AbortController | undefined;
  onAbort: (() => void) | undefined;
}

interface Queue<T, R> {
  pending: Entry<T, R>[];
  /** The flush loop of the key, while one runs. */
  loop: Promise<void> | undefined;
}

export class Coalescer<T, R> {
  private readonly queues = new Map<string, Queue<T, R>>();
  private readonly max: number;

  constructor(private readonly options: CoalescerOptions<T, R>) {
    this.max = options.maxBatch ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Queues an item under `key` and resolves with its result once its flush succeeded. An item whose
   * signal aborts while it waits is settled at once with the cancelled error and never flushed; one
   * that aborts during its flush aborts the batch's signal, and settles with the cancelled error unless
   * the flush succeeded anyway.
   */
  submit(key: string, item: T, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) return Promise.reject(this.cancelledError(signal));
    return new Promise<R>((resolve, reject) => {
      const entry: Entry<T, R> = {
        item,
        signal,
        resolve,
        reject,
        state: WAITING,
        batch: undefined,
        onAbort: undefined,
      };
      if (signal) {
        entry.onAbort = () => this.aborted(entry);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { pending: [], loop: undefined };
        this.queues.set(key, queue);
      }
      queue.pending.push(entry);
      if (queue.loop === undefined) queue.loop = this.run(key, queue);
    });
  }

  /** Waits until every item submitted so far, under any key, is settled. */
  async drain(): Promise<void> {
    for (;;) {
      const loops: Promise<void>[] = [];
      for (const queue of this.queues.values()) if (queue.loop) loops.push(queue.loop);
      if (loops.length === 0) return;
      await Promise.all(loops);
    }
  }

  private async run(key: string, queue: Queue<T, R>): Promise<void> {
    try {
      while (queue.pending.length > 0) {
        const batch = this.take(queue);
        if (batch.length > 0) await this.send(batch);
      }
    } finally {
      queue.loop = undefined;
      this.queues.delete(key);
    }
  }

  /** The next items that fit one batch; items cancelled while they waited are skipped. */
  private take(queue: Queue<T, R>): Entry<T, R>[] {
    const { pending } = queue;
    const { weight } = this.options;
    const batch: Entry<T, R>[] = [];
    let total = 0;
    let i = 0;
    for (; i < pending.length; i++) {
      const entry = pending[i] as Entry<T, R>;
      if (entry.state === DONE) continue;
      const w = weight ? weight(entry.item) : 1;
      if (batch.length > 0 && total + w > this.max) break;
      batch.push(entry);
      total += w;
    }
    queue.pending = i === pending.length ? [] : pending.slice(i);
    return batch;
  }

  /** Flushes a batch and settles its items, trying them again as the failure policy says. */
  private async send(batch: Entry<T, R>[]): Promise<void> {
    let controller: AbortController | undefined;
    const items: T[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as Entry<T, R>;
      entry.state = SENT;
      items[i] = entry.item;
      if (entry.signal) {
        controller ??= new AbortController();
        entry.batch = controller;
      }
    }
    let results: readonly R[];
    try {
      results = await this.options.flush({ items, signal: controller?.signal });
      if (results.length !== batch.length)
        throw new Error(`a flush returned ${results.length} results for ${batch.length} items`);
    } catch (err) {
      await this.failed(batch, err);
      return;
    }
    for (let i = 0; i < batch.length; i++) this.resolve(batch[i] as Entry<T, R>, results[i] as R);
  }

  private async failed(batch: Entry<T, R>[], err: unknown): Promise<void> {
    const { onFailure, report } = this.options;
    try {
      report?.(err, batch.length);
    } catch {
      // A failing reporter must not leave the batch unsettled.
    }
    let policy: FailurePolicy;
    try {
      policy = typeof onFailure === 'function' ? onFailure(err) : onFailure;
    } catch {
      policy = 'fail-all';
    }
    let done = 0;
    if (policy === 'retry-rest' && err instanceof BatchFailure) {
      const results = (err as BatchFailure<R>).results;
      done = Math.min(results.length, batch.length);
      for (let i = 0; i < done; i++) this.resolve(batch[i] as Entry<T, R>, results[i] as R);
    }
    const cause = err instanceof BatchFailure ? err.cause : err;
    if (policy === 'fail-all' || batch.length === 1) {
      for (let i = done; i < batch.length; i++) this.reject(batch[i] as Entry<T, R>, cause);
      return;
    }
    // Waiting again: an item cancelled before its turn to go alone is settled without being sent.
    for (let i = done; i < batch.length; i++) {
      const entry = batch[i] as Entry<T, R>;
      entry.batch = undefined;
      if (entry.state === SENT) entry.state = WAITING;
      if (entry.signal?.aborted) this.reject(entry, cause);
    }
    for (let i = done; i < batch.length; i++) {
      const entry = batch[i] as Entry<T, R>;
      if (entry.state === WAITING) await this.send([entry]);
    }
  }

  private aborted(entry: Entry<T, R>): void {
    if (entry.state === WAITING) this.reject(entry, undefined);
    else if (entry.state === SENT) entry.batch?.abort();
  }

  private resolve(entry: Entry<T, R>, result: R): void {
    if (!this.finish(entry)) return;
    entry.resolve(result);
  }

  /** Rejects with `err`, or with the cancelled error when the item's signal aborted. */
  private reject(entry: Entry<T, R>, err: unknown): void {
    if (!this.finish(entry)) return;
    entry.reject(entry.signal?.aborted ? this.cancelledError(entry.signal) : err);
  }

  private finish(entry: Entry<T, R>): boolean {
    if (entry.state === DONE) return false;
    entry.state = DONE;
    entry.batch = undefined;
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    return true;
  }

  private cancelledError(signal: AbortSignal): unknown {
    return this.options.cancelled ? this.options.cancelled(signal) : signal.reason;
  }
}
