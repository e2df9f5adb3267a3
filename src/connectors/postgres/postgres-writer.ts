/**
 * A PostgreSQL write in one transaction. Rows stream into one `COPY ... FROM STDIN` (text format) for
 * the writer's whole life, so a million rows are one statement, not a million. Upsert copies into a
 * temporary staging table and merges with INSERT ... ON CONFLICT at commit. DDL is transactional in
 * PostgreSQL, so a table created here disappears again on rollback.
 */
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AppError } from '../../core/errors.js';
import type { Column, Row } from '../../core/records.js';
import { cancelledError, onAbort, throwIfAborted } from '../abort.js';
import { requireTable, upsertKeys, writeColumns } from '../columns.js';
import type { DestinationSpec, Writer } from '../connector.js';
import { dbError } from '../db-errors.js';
import { quotePgColumn, quotePgIdent } from '../sql-ident.js';
import { copyTextBatch } from './copy-text.js';
import { InsertBatcher, type InsertShape } from './insert-batcher.js';
import { createTableSql, tableColumns } from './postgres-catalog.js';
import { cancelBackend } from './postgres-read.js';

const STAGE = 'integrator_stage';

/**
 * Opens the transaction and prepares the target (create, truncate, staging). Returns the table the
 * rows should be copied into. Shared by the row writer and the CSV fast path.
 */
export async function prepareTarget(
  client: pg.PoolClient,
  spec: DestinationSpec,
  columns: readonly Column[],
  stage = true,
): Promise<{ into: string; keys: string[] }> {
  const table = requireTable(spec);
  const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
  const existing = await tableColumns(client, table);
  if (!existing) {
    if (spec.create === false) {
      throw new AppError('BAD_REQUEST', `table '${table}' does not exist and create is off for this step`);
    }
    await client.query(createTableSql(table, columns, keys.length > 0 ? keys : (spec.keys ?? [])));
  } else if (spec.mode === 'replace') {
    // TRUNCATE is transactional here: readers keep seeing the old rows until commit.
    await client.query(`truncate table ${quotePgIdent(table)}`);
  }
  if (spec.mode !== 'upsert' || !stage) return { into: quotePgIdent(table), keys };
  await client.query(
    `create temp table ${STAGE} (like ${quotePgIdent(table)} including defaults) on commit drop`,
  );
  return { into: STAGE, keys };
}

/** Moves staged rows into the target; the last staged row for a key wins. */
export async function mergeStage(
  client: pg.PoolClient,
  table: string,
  names: readonly string[],
  keys: readonly string[],
): Promise<number> {
  const cols = names.map(quotePgColumn).join(', ');
  const keyList = keys.map(quotePgColumn).join(', ');
  const updates = names.filter((n) => !keys.includes(n));
  const action =
    updates.length === 0
      ? 'do nothing'
      : `do update set ${updates.map((n) => `${quotePgColumn(n)} = excluded.${quotePgColumn(n)}`).join(', ')}`;
  const res = await client.query(
    `insert into ${quotePgIdent(table)} (${cols})
     select distinct on (${keyList}) ${cols} from ${STAGE} order by ${keyList}, ctid desc
     on conflict (${keyList}) ${action}`,
  );
  return res.rowCount ?? 0;
}

/** Tables this process has seen exist, per pool: a small write into one skips the catalog query. */
const knownTables = new WeakMap<pg.Pool, Set<string>>();

/** A write of at most this many rows (in all) is one INSERT with bound values instead of a COPY. */
function smallLimit(columnCount: number): number {
  // PostgreSQL takes at most 65535 bind parameters per statement.
  return Math.max(1, Math.min(500, Math.floor(60_000 / Math.max(columnCount, 1))));
}

/** A bound value as node-postgres sends it, converted the way the COPY path converts it. */
function pgParam(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date || v === null || typeof v !== 'object')
    return typeof v === 'bigint' ? v.toString() : v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return JSON.stringify(v);
}

/** For upsert: one row per key, the last one winning, as the staging merge does. */
function lastPerKey(rows: readonly Row[], keys: readonly string[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const r of rows) byKey.set(JSON.stringify(keys.map((k) => r[k] ?? null)), r);
  return [...byKey.values()];
}

function insertSql(
  table: string,
  names: readonly string[],
  keys: readonly string[],
  rowCount: number,
): string {
  const cols = names.map(quotePgColumn).join(', ');
  const tuples: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    tuples.push(`(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`);
  }
  let sql = `insert into ${quotePgIdent(table)} (${cols}) values ${tuples.join(', ')}`;
  if (keys.length > 0) {
    const updates = names.filter((n) => !keys.includes(n));
    const keyList = keys.map(quotePgColumn).join(', ');
    sql +=
      updates.length === 0
        ? ` on conflict (${keyList}) do nothing`
        : ` on conflict (${keyList}) do update set ${updates.map((n) => `${quotePgColumn(n)} = excluded.${quotePgColumn(n)}`).join(', ')}`;
  }
  return sql;
}

/** Small writes of at most this many rows run as named (server-side prepared) statements. */
const PREPARED_MAX_ROWS = 4;

/**
 * Small-write statements by shape (table, columns, conflict keys): the INSERT texts by row count, quoted
 * once, and for few rows the name they are prepared under on each pooled connection (parsed and planned
 * once per connection, then only bound and executed). Bounded: past the limit the map starts over.
 */
class SmallWriteShape implements InsertShape {
  private readonly texts = new Map<number, { sql: string; name: string | undefined }>();

  constructor(
    readonly key: string,
    private readonly table: string,
    private readonly names: readonly string[],
    private readonly keys: readonly string[],
  ) {}

  get columns(): number {
    return this.names.length;
  }

  /**
   * Whether writes of this shape may share a statement: each must count exactly its own rows, which an
   * upsert that does nothing on a conflict would not.
   */
  get sharable(): boolean {
    return this.keys.length === 0 || this.names.some((n) => !this.keys.includes(n));
  }

  private text(rows: number): { sql: string; name: string | undefined } {
    let t = this.texts.get(rows);
    if (!t) {
      const name = rows <= PREPARED_MAX_ROWS ? `integrator_w${++statementCount}` : undefined;
      t = { sql: insertSql(this.table, this.names, this.keys, rows), name };
      if (this.texts.size >= 64) this.texts.clear();
      this.texts.set(rows, t);
    }
    return t;
  }

  sql(rows: number): string {
    return this.text(rows).sql;
  }

  name(rows: number): string | undefined {
    return this.text(rows).name;
  }
}

const smallWrites = new Map<string, SmallWriteShape>();
const MAX_SMALL_WRITES = 2000;
let statementCount = 0;

/** One batcher per pool: concurrent small writes of one shape share a statement. */
const batchers = new WeakMap<pg.Pool, InsertBatcher>();

function shapeOf(table: string, names: readonly string[], keys: readonly string[]): SmallWriteShape {
  const key = `${table}\u0000${names.join('\u0001')}\u0000${keys.join('\u0001')}`;
  let shape = smallWrites.get(key);
  if (!shape) {
    if (smallWrites.size >= MAX_SMALL_WRITES) smallWrites.clear();
    shape = new SmallWriteShape(key, table, names, keys);
    smallWrites.set(key, shape);
  }
  return shape;
}

/**
 * The small-write path: a few rows (a listener call, a trickle) as one INSERT … ON CONFLICT with bound
 * values. Into a table known to exist, outside replace mode, that single statement is the whole
 * transaction, shared with the concurrent small writes of the same shape (see InsertBatcher); otherwise
 * it runs inside begin/commit after the table is created or emptied, on the writer's own connection.
 */
async function writeSmall(
  pool: pg.Pool,
  connect: () => Promise<pg.PoolClient>,
  spec: DestinationSpec,
  rows: Row[],
  signal: AbortSignal | undefined,
): Promise<number> {
  const table = requireTable(spec);
  const columns = writeColumns(spec, rows);
  const names = columns.map((c) => c.name);
  const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
  const values = keys.length > 0 ? lastPerKey(rows, keys) : rows;
  const params = values.flatMap((r) => names.map((n) => pgParam(r[n])));
  const shape = shapeOf(table, names, keys);
  let known = knownTables.get(pool);
  if (!known) {
    known = new Set();
    knownTables.set(pool, known);
  }
  try {
    if (known.has(table) && spec.mode !== 'replace') {
      if (shape.sharable) {
        let batcher = batchers.get(pool);
        if (!batcher) {
          batcher = new InsertBatcher(pool);
          batchers.set(pool, batcher);
        }
        return await batcher.write(shape, params, signal);
      }
      const client = await connect();
      return (await client.query(statement(shape, values.length, params))).rowCount ?? 0;
    }
    const client = await connect();
    await client.query('begin');
    await prepareTarget(client, spec, columns, false);
    const res = await client.query(statement(shape, values.length, params));
    await client.query('commit');
    known.add(table);
    return res.rowCount ?? 0;
  } catch (e) {
    // The table may have been dropped (or recreated with other types) behind our back: ask the catalog
    // next time, and prepare the statement afresh under a new name.
    known.delete(table);
    smallWrites.delete(shape.key);
    throw e;
  }
}

function statement(shape: SmallWriteShape, rows: number, values: unknown[]): pg.QueryConfig {
  const query: pg.QueryConfig = { text: shape.sql(rows), values };
  const name = shape.name(rows);
  if (name !== undefined) query.name = name;
  return query;
}

export async function openPgWriter(
  pool: pg.Pool,
  spec: DestinationSpec,
  signal: AbortSignal | undefined,
): Promise<Writer> {
  throwIfAborted(signal);
  const table = requireTable(spec);
  // The connection is taken when it is first needed: a small write into a known table may need none of
  // its own (it shares a statement, see InsertBatcher).
  let client: pg.PoolClient | undefined;
  const connect = async (): Promise<pg.PoolClient> => {
    client ??= await pool.connect().catch((e: unknown) => {
      throw dbError(e, 'connecting');
    });
    return client;
  };
  let state: 'open' | 'done' = 'open';
  let stream: (Writable & { rowCount?: number }) | undefined;
  let streamError: unknown;
  let names: string[] = [];
  let keys: string[] = [];
  let rows = 0;
  /** Rows held back while the write is still small enough for one INSERT. */
  let pending: Row[] = [];
  const what = `writing to table '${table}'`;
  const unhook = onAbort(signal, () => {
    const c = client;
    void (c ? cancelBackend(pool, c) : Promise.resolve()).then(() => finish(cancelledError()));
  });

  async function finish(err?: unknown): Promise<void> {
    if (state === 'done') return;
    state = 'done';
    unhook();
    stream?.destroy();
    const c = client;
    if (!c) return;
    // After a failed COPY the connection state is uncertain; destroy it rather than reuse.
    try {
      await c.query('rollback');
      c.release(err instanceof Error ? err : undefined);
    } catch (e) {
      c.release(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Ends a write that succeeded: the connection goes back to the pool. */
  function done(): void {
    state = 'done';
    unhook();
    client?.release();
  }

  async function start(batch: Row[]): Promise<void> {
    const columns = writeColumns(spec, batch);
    names = columns.map((c) => c.name);
    const client = await connect();
    await client.query('begin');
    const target = await prepareTarget(client, spec, columns);
    keys = target.keys;
    const s = client.query(
      copyFrom(`copy ${target.into} (${names.map(quotePgColumn).join(', ')}) from stdin`),
    );
    s.on('error', (e: unknown) => {
      streamError ??= e;
    });
    stream = s;
  }

  async function push(text: string): Promise<void> {
    const s = stream;
    if (!s) return;
    if (streamError) throw streamError;
    if (s.write(text)) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        s.off('drain', done);
        s.off('error', fail);
        resolve();
      };
      const fail = (e: unknown) => {
        s.off('drain', done);
        reject(e);
      };
      s.on('drain', done);
      s.once('error', fail);
    });
  }

  async function endCopy(): Promise<number> {
    const s = stream;
    if (!s) return 0;
    await new Promise<void>((resolve, reject) => {
      if (streamError) return reject(streamError);
      s.once('finish', resolve);
      s.once('error', reject);
      s.end();
    });
    return s.rowCount ?? rows;
  }

  return {
    async write(batch) {
      if (state !== 'open')
        throw signal?.aborted ? cancelledError() : new AppError('BAD_REQUEST', `${what}: writer is closed`);
      if (batch.length === 0) return;
      try {
        if (!stream) {
          const width = Object.keys(pending[0] ?? batch[0] ?? {}).length;
          if (pending.length + batch.length <= smallLimit(width)) {
            for (const r of batch) pending.push(r);
            return;
          }
          await start(pending.length > 0 ? pending : batch);
          if (pending.length > 0) {
            await push(copyTextBatch(pending, names));
            rows += pending.length;
            pending = [];
          }
        }
        await push(copyTextBatch(batch, names));
        rows += batch.length;
      } catch (e) {
        const err = signal?.aborted ? cancelledError() : dbError(e, what);
        await finish(err);
        throw err;
      }
    },
    async commit() {
      if (state !== 'open')
        throw signal?.aborted ? cancelledError() : new AppError('BAD_REQUEST', `${what}: writer is closed`);
      try {
        if (!stream && pending.length > 0) {
          const written = await writeSmall(pool, connect, spec, pending, signal);
          done();
          return { rowsWritten: written };
        }
        if (!stream) {
          // Nothing written: still honour replace (empty the table) and create-when-missing.
          await start([]).catch((e: unknown) => {
            // No columns to create a table with (checked before anything is sent): nothing to do.
            if (!(e instanceof AppError && e.message.startsWith('nothing to write'))) throw e;
          });
        }
        let written = await endCopy();
        if (stream && client) {
          if (spec.mode === 'upsert') written = await mergeStage(client, table, names, keys);
          await client.query('commit');
        }
        done();
        return { rowsWritten: written };
      } catch (e) {
        const err = signal?.aborted ? cancelledError() : dbError(e, what);
        await finish(err);
        throw err;
      }
    },
    async rollback() {
      await finish();
    },
  };
}
