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
  if (spec.mode !== 'upsert') return { into: quotePgIdent(table), keys };
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

export async function openPgWriter(
  pool: pg.Pool,
  spec: DestinationSpec,
  signal: AbortSignal | undefined,
): Promise<Writer> {
  throwIfAborted(signal);
  const table = requireTable(spec);
  const client = await pool.connect().catch((e: unknown) => {
    throw dbError(e, 'connecting');
  });
  let state: 'open' | 'done' = 'open';
  let stream: (Writable & { rowCount?: number }) | undefined;
  let streamError: unknown;
  let names: string[] = [];
  let keys: string[] = [];
  let rows = 0;
  const what = `writing to table '${table}'`;
  const unhook = onAbort(signal, () => {
    void cancelBackend(pool, client).then(() => finish(cancelledError()));
  });

  async function finish(err?: unknown): Promise<void> {
    if (state === 'done') return;
    state = 'done';
    unhook();
    stream?.destroy();
    // After a failed COPY the connection state is uncertain; destroy it rather than reuse.
    try {
      await client.query('rollback');
      client.release(err instanceof Error ? err : undefined);
    } catch (e) {
      client.release(e instanceof Error ? e : new Error(String(e)));
    }
  }

  async function start(batch: Row[]): Promise<void> {
    const columns = writeColumns(spec, batch);
    names = columns.map((c) => c.name);
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
        if (!stream) await start(batch);
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
        if (!stream) {
          // Nothing written: still honour replace (empty the table) and create-when-missing.
          await start([]).catch((e: unknown) => {
            if (e instanceof AppError && e.message.startsWith('nothing to write')) return;
            throw e;
          });
        }
        let written = await endCopy();
        if (stream && spec.mode === 'upsert') written = await mergeStage(client, table, names, keys);
        if (stream) await client.query('commit');
        state = 'done';
        unhook();
        client.release();
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
