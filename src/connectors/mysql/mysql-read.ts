/**
 * Streaming reads from MySQL/MariaDB: rows arrive as an object stream from the text protocol and are
 * grouped into batches; back-pressure pauses the socket. The protocol cannot stop a result midway,
 * so an abort (or an early stop by the consumer) kills the query and destroys the connection.
 */
import type { PoolConnection as CoreConnection, Pool as CorePool, FieldPacket } from 'mysql2';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { type Column, DEFAULT_BATCH_SIZE, type Row } from '../../core/records.js';
import { cancelledError, onAbort, throwIfAborted } from '../abort.js';
import type { SourceResult, SourceSpec } from '../connector.js';
import type { PoolSession } from '../session.js';
import { quoteMysqlColumn, quoteMysqlIdent } from '../sql-ident.js';
import { bindNamed, positionalPlaceholder } from '../sql-params.js';
import { classifyMysqlError, mysqlError } from './mysql-errors.js';
import { columnTypeOfField, decimalOfField, mysqlValue } from './mysql-types.js';

export function mysqlSourceQuery(spec: SourceSpec): { text: string; values: unknown[]; what: string } {
  if ('table' in spec) {
    const cols = spec.columns?.length ? spec.columns.map(quoteMysqlColumn).join(', ') : '*';
    return {
      text: `select ${cols} from ${quoteMysqlIdent(spec.table)}`,
      values: [],
      what: `reading table '${spec.table}'`,
    };
  }
  if ('query' in spec)
    return { ...bindNamed(spec.query, spec.params ?? {}, positionalPlaceholder), what: 'running the query' };
  throw mysqlError(new Error('a database source needs table or query, not file'), 'reading');
}

export function fieldsToColumns(fields: readonly FieldPacket[]): Column[] {
  return fields.map((f) => {
    const type = columnTypeOfField(
      f.columnType ?? f.type,
      f.characterSet ?? f.charsetNr,
      f.columnLength ?? f.length,
    );
    const d =
      type === 'decimal'
        ? decimalOfField(
            f.columnLength ?? f.length,
            f.decimals,
            typeof f.flags === 'number' ? f.flags : undefined,
          )
        : undefined;
    return { name: f.name, type, nullable: true, ...d };
  });
}

/** How a MySQL pool lends connections to onConnection(). */
export function mysqlSession(pool: Pool): PoolSession<PoolConnection> {
  return {
    acquire: () => pool.getConnection(),
    cancel: (conn) => killQuery(pool, conn),
    release: (conn, healthy) => (healthy ? conn.release() : conn.destroy()),
    classifyError: classifyMysqlError,
  };
}

/** Stops whatever the connection runs, from another connection. */
export async function killQuery(pool: Pool, conn: { threadId: number }): Promise<void> {
  await pool.query(`KILL QUERY ${Number(conn.threadId)}`).catch(() => undefined);
}

export async function mysqlRead(
  core: CorePool,
  pool: Pool,
  spec: SourceSpec,
  signal: AbortSignal | undefined,
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<SourceResult> {
  throwIfAborted(signal);
  const q = mysqlSourceQuery(spec);
  const conn = await new Promise<CoreConnection>((resolve, reject) =>
    core.getConnection((err, c) => (err ? reject(mysqlError(err, 'connecting')) : resolve(c))),
  );
  let cancelled = false;
  const unhook = onAbort(signal, () => {
    cancelled = true;
    void killQuery(pool, conn);
  });
  const query = conn.query({ sql: q.text, values: q.values.map(mysqlValue) });
  const stream = query.stream({ highWaterMark: batchSize });
  // A query without a callback is not told when the connection dies (mysql2 tells the connection), so
  // the stream would wait for rows forever: the connection's error ends the stream.
  const lost = (err: unknown) => {
    stream.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  conn.on('error', lost);
  const unwatch = () => conn.off('error', lost);
  // Column metadata arrives before the first row; wait for it so callers know the layout up front.
  let fields: FieldPacket[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      query.once('fields', (f: FieldPacket[]) => {
        fields = f;
        resolve();
      });
      query.once('end', () => resolve());
      stream.once('error', reject);
    });
  } catch (e) {
    unhook();
    unwatch();
    conn.destroy();
    throw cancelled ? cancelledError() : mysqlError(e, q.what);
  }
  async function* batches(): AsyncGenerator<Row[]> {
    let complete = false;
    try {
      let batch: Row[] = [];
      for await (const row of stream) {
        batch.push(row);
        if (batch.length >= batchSize) {
          throwIfAborted(signal);
          yield batch;
          batch = [];
        }
      }
      throwIfAborted(signal);
      if (batch.length > 0) yield batch;
      complete = true;
    } catch (e) {
      throw cancelled || signal?.aborted ? cancelledError() : mysqlError(e, q.what);
    } finally {
      unhook();
      unwatch();
      if (complete) conn.release();
      else {
        if (!cancelled) await killQuery(pool, conn);
        conn.destroy();
      }
    }
  }
  return { columns: fieldsToColumns(fields), batches: batches() };
}
