/**
 * Streaming reads from PostgreSQL through a server-side cursor: the server hands over one batch at a
 * time, so memory stays flat however big the result. An abort cancels the running statement on the
 * server (pg_cancel_backend) and destroys the connection instead of returning it to the pool.
 */

import type pg from 'pg';
import type Cursor from 'pg-cursor';
import { type Column, DEFAULT_BATCH_SIZE, oneBatch, type Row } from '../../core/records.js';
import { cancelledError, onAbort, throwIfAborted } from '../abort.js';
import type { SourceResult, SourceSpec } from '../connector.js';
import type { PoolSession } from '../session.js';
import { quotePgColumn, quotePgIdent } from '../sql-ident.js';
import { bindNamed, pgPlaceholder } from '../sql-params.js';
import { cancelBackend } from './cancel-backend.js';
import { classifyPgError, pgError } from './pg-errors.js';
import { corked, PacketCursor } from './pg-internals.js';
import type { PgPoolState } from './pool-state.js';
import { columnOfField } from './postgres-types.js';

export interface BoundQuery {
  text: string;
  values: unknown[];
  what: string;
}

/** The SQL for a table or query source, parameters bound. */
export function sourceQuery(spec: SourceSpec): BoundQuery {
  if ('table' in spec) {
    const cols = spec.columns?.length ? spec.columns.map(quotePgColumn).join(', ') : '*';
    return {
      text: `select ${cols} from ${quotePgIdent(spec.table)}`,
      values: [],
      what: `reading table '${spec.table}'`,
    };
  }
  if ('query' in spec) {
    const b = bindNamed(spec.query, spec.params ?? {}, pgPlaceholder);
    return { ...b, what: 'running the query' };
  }
  throw pgError(new Error('a database source needs table or query, not file'), 'reading');
}

export function fieldsToColumns(fields: readonly pg.FieldDef[]): Column[] {
  return fields.map((f) => columnOfField(f.name, f.dataTypeID, f.dataTypeModifier));
}

/** How a PostgreSQL pool lends connections to onConnection(). */
export function pgSession(pool: pg.Pool): PoolSession<pg.PoolClient> {
  return {
    acquire: () => pool.connect(),
    cancel: (client) => cancelBackend(pool, client),
    release: (client, healthy) =>
      client.release(healthy ? undefined : new Error('discarded after a failure')),
    classifyError: classifyPgError,
  };
}

/** A pooled connection whose running statement a signal cancels on the server (see cancelBackend). */
export interface CancellableClient {
  client: pg.PoolClient;
  /** Whether the signal fired while the connection was checked out. */
  cancelled(): boolean;
  /** Stops listening to the signal; call before releasing the connection. */
  unhook(): void;
}

export async function connectCancellable(
  pool: pg.Pool,
  signal: AbortSignal | undefined,
): Promise<CancellableClient> {
  const client = await pool.connect().catch((e: unknown) => {
    throw pgError(e, 'connecting');
  });
  let cancelled = false;
  const unhook = onAbort(signal, () => {
    cancelled = true;
    void cancelBackend(pool, client);
  });
  return { client, cancelled: () => cancelled, unhook };
}

/** Reads at most `limit` rows in one round trip, shared with concurrent reads of the same query. */
async function readFirstRows(
  state: PgPoolState,
  q: BoundQuery,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<SourceResult> {
  try {
    const { rows, fields } = await state.pointReads.read(q.text, q.values, limit, signal);
    return { columns: fieldsToColumns(fields), batches: oneBatch(rows.slice(0, limit)) };
  } catch (e) {
    throw signal?.aborted ? cancelledError() : pgError(e, q.what);
  }
}

export async function readCursor(
  state: PgPoolState,
  spec: SourceSpec,
  signal: AbortSignal | undefined,
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<SourceResult> {
  throwIfAborted(signal);
  const q = sourceQuery(spec);
  if (spec.maxRows !== undefined && spec.maxRows >= 1 && spec.maxRows <= batchSize)
    return readFirstRows(state, q, spec.maxRows, signal);
  const { pool } = state;
  const { client, cancelled, unhook } = await connectCancellable(pool, signal);
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  let first: Row[];
  let fields: pg.FieldDef[] = [];
  // Submitted and asked for its first batch in one packet (execute does not wait for the row description).
  const { cursor, firstRead } = corked(client, () => {
    const c = client.query(new PacketCursor(q.text, q.values));
    const read = readBatch(c, batchSize, (f) => {
      fields = f;
    });
    return { cursor: c, firstRead: read };
  });
  try {
    first = await firstRead;
  } catch (e) {
    unhook();
    release(e instanceof Error ? e : new Error(String(e)));
    throw cancelled() ? cancelledError() : pgError(e, q.what);
  }
  async function* batches(): AsyncGenerator<Row[]> {
    let failed = false;
    try {
      let rows = first;
      while (rows.length > 0) {
        throwIfAborted(signal);
        yield rows;
        if (rows.length < batchSize) break;
        rows = await readBatch(cursor, batchSize);
      }
    } catch (e) {
      failed = true;
      throw cancelled() || signal?.aborted ? cancelledError() : pgError(e, q.what);
    } finally {
      unhook();
      if (failed || cancelled()) {
        // The connection may be mid-statement or in an aborted state: never reuse it.
        release(new Error('read failed or was cancelled'));
      } else {
        // Finished, or the consumer stopped early: the portal is suspended, closing it is enough.
        try {
          await cursor.close();
          release();
        } catch (e) {
          release(e instanceof Error ? e : new Error(String(e)));
        }
      }
    }
  }
  return { columns: fieldsToColumns(fields), batches: batches() };
}

function readBatch(cursor: Cursor<Row>, n: number, onFields?: (f: pg.FieldDef[]) => void): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => {
      if (err) return reject(err);
      onFields?.(result.fields);
      resolve(rows);
    });
  });
}
