/**
 * Small writes into one table (a listener call's row, a trickle) that arrive while another write of the
 * same shape is on its way share the next INSERT: many runs pay for one statement and one round trip
 * instead of one each. Each write still stands or falls alone: when the shared statement fails, every
 * write in it is tried again by itself, so a bad row fails its own run only, and a write's rows are never
 * split across statements.
 */
import type pg from 'pg';
import { type Batch, Coalescer } from '../../core/coalescer.js';
import { cancelledError, onAbort } from '../abort.js';
import { cancelBackend } from './cancel-backend.js';

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

/** One write: its rows' bound values, row after row. */
interface Write {
  shape: InsertShape;
  values: unknown[];
  rows: number;
}

export class InsertBatcher {
  /** Writes of one shape coalesce; a statement holds whole writes, at most MAX_VALUES bound values. */
  private readonly writes = new Coalescer<Write, number>({
    flush: (batch) => this.insert(batch),
    // One write's bad row (or a cancel) fails the shared statement: each write is tried again alone.
    onFailure: 'retry-each',
    maxBatch: MAX_VALUES,
    weight: (w) => w.values.length,
    cancelled: cancelledError,
  });

  constructor(private readonly pool: pg.Pool) {}

  /**
   * Inserts rows (their bound values, row after row) and resolves with how many were written, once they
   * are committed. Rows whose signal aborts before their statement is sent are not written; aborting
   * during the statement cancels it (the other writes in it are then written alone).
   */
  write(shape: InsertShape, values: unknown[], signal: AbortSignal | undefined): Promise<number> {
    return this.writes.submit(shape.key, { shape, values, rows: values.length / shape.columns }, signal);
  }

  /** One INSERT of the batch's writes on a pooled connection; any of them can cancel it. */
  private async insert({ items, signal }: Batch<Write>): Promise<number[]> {
    const first = items[0];
    if (!first) return [];
    let rows = 0;
    for (const w of items) rows += w.rows;
    const values = items.length === 1 ? first.values : items.flatMap((w) => w.values);
    const client = await this.pool.connect();
    let healthy = true;
    const unhook = onAbort(signal, () => {
      void cancelBackend(this.pool, client);
    });
    try {
      const query: pg.QueryConfig = { text: first.shape.sql(rows), values };
      const name = first.shape.name(rows);
      if (name !== undefined) query.name = name;
      await client.query(query);
    } catch (err) {
      // A statement that failed may have left a prepared statement out of step (a table changed under
      // it): the connection is not reused.
      healthy = false;
      throw err;
    } finally {
      unhook();
      client.release(healthy ? undefined : new Error('discarded after a failed insert'));
    }
    return items.map((w) => w.rows);
  }
}
