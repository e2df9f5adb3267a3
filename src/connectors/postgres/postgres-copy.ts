/**
 * The byte fast paths for PostgreSQL. copyIn pipes CSV bytes untouched into COPY FROM STDIN (the
 * server parses them; Node never looks inside), copyOut pipes COPY TO STDOUT out. Both stream with
 * back-pressure, so memory stays flat for any file size.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { AppError } from '../../core/errors.js';
import { type Column, fieldOf } from '../../core/records.js';
import type { ByteSource } from '../../formats/format.js';
import { cancelledError, throwIfAborted } from '../abort.js';
import { requireTable } from '../columns.js';
import type { CsvCopyOptions, DestinationSpec, SourceSpec } from '../connector.js';
import { csvEncoder } from '../csv-encode.js';
import { csvLayout } from '../csv-header.js';
import { onConnection } from '../session.js';
import { quotePgColumn, quotePgIdent } from '../sql-ident.js';
import { pgError } from './pg-errors.js';
import type { PgPoolState } from './pool-state.js';
import { tableColumns } from './postgres-catalog.js';
import { ensurePgLedger, recordPgCommit } from './postgres-ledger.js';
import { connectCancellable, fieldsToColumns, pgSession, readCursor, sourceQuery } from './postgres-read.js';
import { mergeStage, prepareTarget } from './postgres-target.js';

function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function csvOptionsSql(o: CsvCopyOptions, header: boolean): string {
  const parts = ['format csv', `header ${header ? 'true' : 'false'}`];
  if (o.delimiter) parts.push(`delimiter ${literal(o.delimiter)}`);
  if (o.quote) parts.push(`quote ${literal(o.quote)}`);
  if (o.escape) parts.push(`escape ${literal(o.escape)}`);
  if (o.nullValue !== undefined) parts.push(`null ${literal(o.nullValue)}`);
  return parts.join(', ');
}

export async function pgCopyIn(
  state: PgPoolState,
  spec: DestinationSpec,
  csv: ByteSource,
  options: CsvCopyOptions,
  signal: AbortSignal | undefined,
): Promise<{ rowsWritten: number }> {
  throwIfAborted(signal);
  const table = requireTable(spec);
  const header = options.header !== false;
  const { names, columns, bytes } = await csvLayout(spec, csv, options);
  return onConnection(
    pgSession(state.pool),
    signal,
    `loading CSV into '${table}'`,
    async (client) => {
      if (spec.commit) await ensurePgLedger(client, state.ledger);
      await client.query('begin');
      const { into, keys } = await prepareTarget(client, spec, columns);
      const copy = client.query(
        copyFrom(
          `copy ${into} (${names.map(quotePgColumn).join(', ')}) from stdin with (${csvOptionsSql(options, header)})`,
        ),
      );
      await pipeline(Readable.from(bytes), copy);
      let rows = copy.rowCount;
      if (spec.mode === 'upsert') rows = await mergeStage(client, table, names, keys);
      if (spec.commit) await recordPgCommit(client, state.ledger, spec.commit, rows);
      await client.query('commit');
      return { rowsWritten: rows };
    },
    (client) => client.query('rollback'),
  );
}

/**
 * COPY cannot take bind parameters, so a query with parameters streams through a cursor and a CSV
 * encoder instead (slower, same bytes). A table or a parameterless query uses COPY TO STDOUT.
 */
export async function pgCopyOut(
  state: PgPoolState,
  spec: SourceSpec,
  options: CsvCopyOptions,
  signal: AbortSignal | undefined,
): Promise<{ columns: Column[]; bytes: AsyncIterable<Uint8Array> }> {
  throwIfAborted(signal);
  const { pool } = state;
  if (
    'query' in spec &&
    spec.params &&
    Object.keys(spec.params).length > 0 &&
    /\{[A-Za-z_]/.test(spec.query)
  ) {
    return cursorCsv(state, spec, options, signal);
  }
  const q = sourceQuery(spec);
  let columns: Column[];
  let copySql: string;
  if ('table' in spec && !spec.columns?.length) {
    const cols = await tableColumns(pool, spec.table).catch((e: unknown) => {
      throw pgError(e, q.what);
    });
    if (!cols) throw new AppError('NOT_FOUND', `table '${spec.table}' does not exist`);
    columns = cols;
    copySql = `copy ${quotePgIdent(spec.table)} (${cols.map((c) => quotePgColumn(c.name)).join(', ')}) to stdout`;
  } else {
    const probe = await pool.query(`select * from (${q.text}) q limit 0`, q.values).catch((e: unknown) => {
      throw pgError(e, q.what);
    });
    columns = fieldsToColumns(probe.fields);
    copySql = `copy (${q.text}) to stdout`;
  }
  const sql = `${copySql} with (${csvOptionsSql(options, options.header !== false)})`;
  async function* bytes(): AsyncGenerator<Uint8Array> {
    const { client, cancelled, unhook } = await connectCancellable(pool, signal);
    let healthy = false;
    try {
      const stream = client.query(copyTo(sql));
      for await (const chunk of stream) {
        if (signal?.aborted) throw cancelledError();
        yield chunk;
      }
      healthy = true;
    } catch (e) {
      throw cancelled() ? cancelledError() : pgError(e, q.what);
    } finally {
      unhook();
      client.release(healthy ? undefined : new Error('copy out stopped'));
    }
  }
  return { columns, bytes: bytes() };
}

async function cursorCsv(
  state: PgPoolState,
  spec: SourceSpec,
  options: CsvCopyOptions,
  signal: AbortSignal | undefined,
): Promise<{ columns: Column[]; bytes: AsyncIterable<Uint8Array> }> {
  const src = await readCursor(state, spec, signal);
  const columns = src.columns ?? [];
  const enc = csvEncoder(options);
  const names = columns.map((c) => c.name);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    if (options.header !== false) yield Buffer.from(enc.line(names));
    for await (const batch of src.batches) {
      let out = '';
      for (const row of batch) out += enc.line(names.map((n) => fieldOf(row, n)));
      yield Buffer.from(out);
    }
  }
  return { columns, bytes: bytes() };
}
