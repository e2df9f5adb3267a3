/**
 * A PostgreSQL write in one transaction. Rows stream into one `COPY ... FROM STDIN` (text format) for
 * the writer's whole life, so a million rows are one statement, not a million. Upsert copies into a
 * temporary staging table and merges with INSERT ... ON CONFLICT at commit. DDL is transactional in
 * PostgreSQL, so a table created here disappears again on rollback. A write that stays small goes the
 * small-write path instead (small-write.ts).
 */
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AppError } from '../../core/errors.js';
import type { Row } from '../../core/records.js';
import { cancelledError, onAbort, throwIfAborted } from '../abort.js';
import { createdTypeGuard, requireTable, writeColumns } from '../columns.js';
import type { DestinationSpec, Writer } from '../connector.js';
import { quotePgColumn } from '../sql-ident.js';
import { cancelBackend } from './cancel-backend.js';
import { copyTextBatch, refuseNul } from './copy-text.js';
import { pgError } from './pg-errors.js';
import type { PgPoolState } from './pool-state.js';
import { ensurePgKeys, ensurePgLedger, recordPgCommit, recordPgKeys } from './postgres-ledger.js';
import { mergeStage, prepareTarget } from './postgres-target.js';
import { smallLimit, writeSmall } from './small-write.js';

export async function openPgWriter(
  shared: PgPoolState,
  spec: DestinationSpec,
  signal: AbortSignal | undefined,
): Promise<Writer> {
  throwIfAborted(signal);
  const { pool } = shared;
  const table = requireTable(spec);
  // The connection is taken when it is first needed: a small write into a known table may need none of
  // its own (it shares a statement, see InsertBatcher).
  let client: pg.PoolClient | undefined;
  const connect = async (): Promise<pg.PoolClient> => {
    client ??= await pool.connect().catch((e: unknown) => {
      throw pgError(e, 'connecting');
    });
    return client;
  };
  let state: 'open' | 'done' = 'open';
  let stream: (Writable & { rowCount?: number }) | undefined;
  let streamError: unknown;
  let names: string[] = [];
  let keys: string[] = [];
  let rows = 0;
  let guard: ((batch: readonly Row[], firstRecord: number) => void) | undefined;
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
    if (spec.commit) await ensurePgLedger(client, shared.ledger);
    if (spec.dedupe) await ensurePgKeys(client, shared.keyLedger);
    await client.query('begin');
    const target = await prepareTarget(client, spec, columns);
    keys = target.keys;
    if (target.created && spec.columnsInferred) guard = createdTypeGuard(columns);
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
            guard?.(pending, 1);
            await push(copyTextBatch(pending, names, 1));
            rows += pending.length;
            pending = [];
          }
        }
        guard?.(batch, rows + 1);
        await push(copyTextBatch(batch, names, rows + 1));
        rows += batch.length;
      } catch (e) {
        const err = signal?.aborted ? cancelledError() : pgError(e, what);
        await finish(err);
        throw err;
      }
    },
    async commit() {
      if (state !== 'open')
        throw signal?.aborted ? cancelledError() : new AppError('BAD_REQUEST', `${what}: writer is closed`);
      try {
        if (!stream && pending.length > 0) {
          refuseNul(pending);
          const written = await writeSmall(shared, connect, spec, pending, signal);
          done();
          return { rowsWritten: written };
        }
        if (!stream) {
          // Nothing written: still honour replace (empty the table) and create-when-missing.
          // Without columns there is no table to create: nothing to do.
          if (spec.columns.length > 0) await start([]);
        }
        let written = await endCopy();
        if (stream && client) {
          if (spec.mode === 'upsert') written = await mergeStage(client, table, names, keys);
          if (spec.commit) await recordPgCommit(client, shared.ledger, spec.commit, written);
          if (spec.dedupe) await recordPgKeys(client, shared.keyLedger, spec.dedupe);
          await client.query('commit');
        } else if (spec.commit) {
          // Nothing to write, and no table to create: the run's record is the whole transaction.
          const c = await connect();
          await ensurePgLedger(c, shared.ledger);
          await c.query('begin');
          await recordPgCommit(c, shared.ledger, spec.commit, 0);
          await c.query('commit');
        }
        done();
        return { rowsWritten: written };
      } catch (e) {
        const err = signal?.aborted ? cancelledError() : pgError(e, what);
        await finish(err);
        throw err;
      }
    },
    async rollback() {
      await finish();
    },
  };
}
