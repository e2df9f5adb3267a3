/**
 * Small writes into one table (a listener call's row, a trickle) that arrive while another write of the
 * same shape is on its way share the next INSERT: many runs pay for one statement and one round trip
 * instead of one each. Each write still stands or falls alone: when the shared statement fails, every
 * write in it is tried again by itself, so a bad row fails its own run only, and a write's rows are never
 * split across statements.
 */
import type pg from 'pg';
import { cancelledError, onAbort } from '../abort.js';
import { cancelBackend } from './postgres-read.js';

/** PostgreSQL takes at most 65535 bound values per statement. */
const MAX_VALUES = 60_000;

/** Writes of one shape: the same table, columns and conflict handling. */
export interface InsertShape {
  /** Identifies the shape (table, columns, conflict keys). */
  key: string;
  columns: number;
  /** The statement for this many rows, with placeholders numbered from $1. */
  sql(rows: number): string;
  /** A statement name for this many rows, to prepare it once per connection; undefined: not prepared. */
  name(rows: number): string | undefined;
}

interface Item {
  values: unknown[];
  rows: number;
  signal: AbortSignal | undefined;
  resolve: (rows: number) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  shape: InsertShape;
  pending: Item[];
  flushing: boolean;
}

export class InsertBatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly pool: pg.Pool) {}

  /**
   * Inserts rows (their bound values, row after row) and resolves with how many were written, once they
   * are committed. Rows whose signal aborts before their statement is sent are not written; aborting
   * during the statement cancels it (the other writes in it are then written alone).
   */
  write(shape: InsertShape, values: unknown[], signal: AbortSignal | undefined): Promise<number> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    return new Promise<number>((resolve, reject) => {
      let queue = this.queues.get(shape.key);
      if (!queue) {
        queue = { shape, pending: [], flushing: false };
        this.queues.set(shape.key, queue);
      }
      queue.pending.push({ values, rows: values.length / shape.columns, signal, resolve, reject });
      if (!queue.flushing) void this.flush(queue);
    });
  }

  private async flush(queue: Queue): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.pending.length > 0) {
        const batch = this.take(queue);
        if (batch.length === 1) await this.alone(queue.shape, batch[0] as Item);
        else if (batch.length > 1) await this.together(queue.shape, batch);
      }
    } finally {
      queue.flushing = false;
      if (queue.pending.length === 0) this.queues.delete(queue.shape.key);
    }
  }

  /** The next writes that fit one statement, whole; writes cancelled while they waited are dropped. */
  private take(queue: Queue): Item[] {
    const batch: Item[] = [];
    let values = 0;
    while (queue.pending.length > 0) {
      const item = queue.pending[0] as Item;
      if (item.signal?.aborted) {
        queue.pending.shift();
        item.reject(cancelledError());
        continue;
      }
      if (batch.length > 0 && values + item.values.length > MAX_VALUES) break;
      queue.pending.shift();
      batch.push(item);
      values += item.values.length;
    }
    return batch;
  }

  private async together(shape: InsertShape, batch: Item[]): Promise<void> {
    const rows = batch.reduce((n, i) => n + i.rows, 0);
    try {
      await this.run(
        shape,
        rows,
        batch.flatMap((i) => i.values),
        batch,
      );
    } catch {
      // One write's bad row (or a cancel) failed them all: each is tried again alone.
      for (const item of batch) await this.alone(shape, item);
      return;
    }
    for (const item of batch) item.resolve(item.rows);
  }

  private async alone(shape: InsertShape, item: Item): Promise<void> {
    if (item.signal?.aborted) return item.reject(cancelledError());
    try {
      await this.run(shape, item.rows, item.values, [item]);
      item.resolve(item.rows);
    } catch (err) {
      item.reject(item.signal?.aborted ? cancelledError() : err);
    }
  }

  /** One INSERT on a pooled connection; any of the writes in it can cancel it. */
  private async run(shape: InsertShape, rows: number, values: unknown[], items: Item[]): Promise<void> {
    const client = await this.pool.connect();
    let healthy = true;
    const unhooks = items.map((item) =>
      onAbort(item.signal, () => {
        void cancelBackend(this.pool, client);
      }),
    );
    try {
      const query: pg.QueryConfig = { text: shape.sql(rows), values };
      const name = shape.name(rows);
      if (name !== undefined) query.name = name;
      await client.query(query);
    } catch (err) {
      // A statement that failed may have left a prepared statement out of step (a table changed under
      // it): the connection is not reused.
      healthy = false;
      throw err;
    } finally {
      for (const unhook of unhooks) unhook();
      client.release(healthy ? undefined : new Error('discarded after a failed insert'));
    }
  }
}
