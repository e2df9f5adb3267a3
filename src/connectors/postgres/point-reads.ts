/**
 * Reads of at most a few rows by the same query text (a data API answering one object: `select … where
 * id = {id}`) that arrive while another is on its way are sent together: one packet carries the query
 * once and a bind and execute per read, and one round trip answers them all, instead of one each. Each
 * read still has its own statement and parameters, and its own outcome: a read that fails (and every
 * read after it in the packet, which PostgreSQL then skips) is tried again alone.
 */
import type pg from 'pg';
import { type Batch, BatchFailure, Coalescer } from '../../core/coalescer.js';
import type { Row } from '../../core/records.js';
import { cancelledError, onAbort } from '../abort.js';
import { pgError } from './pg-errors.js';
import { type PgProtocol, prepareValue, submit, TypedSubmittable } from './pg-internals.js';

/** Reads sent in one packet at most. */
const MAX_READS = 64;

export interface PointResult {
  rows: Row[];
  fields: pg.FieldDef[];
}

/** One read: reads of the same text and limit coalesce. */
interface Read {
  text: string;
  limit: number;
  values: unknown[];
}

/**
 * One packet of reads for pg's client, which runs it like a query: parse and describe the statement once,
 * then bind and execute it (at most `limit` rows) per read, then one sync. Results come back in order;
 * PostgreSQL skips every execute after one that fails.
 */
class ReadPacket extends TypedSubmittable {
  private readonly results: Row[][] = [];
  private current: Row[] = [];
  private failure: { index: number; error: unknown } | undefined;
  private finished = false;

  constructor(
    readonly text: string,
    private readonly values: unknown[][],
    private readonly limit: number,
    private readonly done: (
      results: Row[][],
      fields: pg.FieldDef[],
      failure?: { index: number; error: unknown },
    ) => void,
  ) {
    super();
  }

  submit(connection: PgProtocol): null {
    connection.stream.cork?.();
    try {
      connection.parse({ text: this.text });
      connection.describe({ type: 'S', name: '' });
      for (const values of this.values) {
        connection.bind({ portal: '', statement: '', values, valueMapper: prepareValue });
        connection.execute({ portal: '', rows: this.limit });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    this.rowParser.addFields(msg.fields);
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    this.current.push(this.rowParser.parseRow(msg.fields));
  }

  private next(): void {
    this.results.push(this.current);
    this.current = [];
  }

  handleCommandComplete(): void {
    this.next();
  }

  handlePortalSuspended(): void {
    this.next();
  }

  handleEmptyQuery(): void {
    this.next();
  }

  handleError(error: unknown): void {
    // The server skips the rest of the packet; pg hands its ready-for-query to no one (nor does a lost
    // connection send one), so the packet ends here. The connection is not reused.
    this.failure ??= { index: this.results.length, error };
    this.finish();
  }

  handleReadyForQuery(): void {
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.done(this.results, this.rowParser.fields, this.failure);
  }

  handleCopyInResponse(): void {}

  handleCopyData(): void {}
}

export class PointReader {
  private readonly reads = new Coalescer<Read, PointResult>({
    flush: (batch) => this.send(batch),
    // A failed read and those after it in the packet go again alone; without a connection, all fail.
    onFailure: (err) => (err instanceof BatchFailure ? 'retry-rest' : 'fail-all'),
    maxBatch: MAX_READS,
    cancelled: cancelledError,
  });

  /** `cancel` stops what a connection of the pool runs (from another connection). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly cancel: (client: pg.PoolClient) => Promise<void>,
  ) {}

  /** At most `limit` rows of the query with these bound values. */
  read(
    text: string,
    values: unknown[],
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<PointResult> {
    return this.reads.submit(`${limit}\u0000${text}`, { text, limit, values }, signal);
  }

  /**
   * Sends the reads in one packet; a failure throws a BatchFailure with the answers of the reads before
   * the one that failed.
   */
  private async send({ items, signal }: Batch<Read>): Promise<PointResult[]> {
    const first = items[0];
    if (!first) return [];
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw pgError(e, 'connecting');
    }
    const unhook = onAbort(signal, () => void this.cancel(client));
    let outcome: { results: Row[][]; fields: pg.FieldDef[]; failure?: { index: number; error: unknown } };
    try {
      outcome = await new Promise((resolve) => {
        const packet = new ReadPacket(
          first.text,
          items.map((r) => r.values),
          first.limit,
          (results, fields, failure) => resolve(failure ? { results, fields, failure } : { results, fields }),
        );
        submit(client, packet);
      });
    } finally {
      unhook();
    }
    const { results, fields, failure } = outcome;
    client.release(failure ? toError(failure.error) : undefined);
    const answered = results.slice(0, failure?.index).map((rows) => ({ rows, fields }));
    if (failure) throw new BatchFailure(answered, failure.error);
    return answered;
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
