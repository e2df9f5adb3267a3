/**
 * A SQLite write: its own connection holding one IMMEDIATE transaction for the writer's life (so
 * writes of concurrent runs never share a transaction), one prepared INSERT run per row. DDL is
 * transactional in SQLite, so a created table vanishes on rollback.
 */
import Database from 'better-sqlite3';
import { AppError } from '../../core/errors.js';
import { fieldOf, type Row } from '../../core/records.js';
import { cancelledError, throwIfAborted } from '../abort.js';
import { createdTypeGuard, requireKnownFields, requireTable, upsertKeys, writeColumns } from '../columns.js';
import { type LedgerState, ledgerDdl, recordSql } from '../commit-ledger.js';
import type { DestinationSpec, Writer } from '../connector.js';
import { insertKeysSql, keysDdl } from '../message-keys.js';
import { quoteSqliteColumn, quoteSqliteIdent } from '../sql-ident.js';
import { createTableSql, tableColumns } from './sqlite-catalog.js';
import { sqliteError } from './sqlite-errors.js';
import { toSqlite, toSqliteDecimal } from './sqlite-types.js';

/**
 * Takes SQLite's write lock without blocking the event loop. better-sqlite3 is synchronous, so letting
 * SQLite wait for the lock (busy_timeout) would freeze the whole process, including the writer of this
 * same process that holds the lock across awaits and must run to release it. Instead: try at once, and
 * on SQLITE_BUSY wait asynchronously and try again, up to `timeoutMs`.
 */
export async function beginImmediate(
  db: Database.Database,
  signal: AbortSignal | undefined,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  db.pragma('busy_timeout = 0');
  try {
    for (;;) {
      try {
        db.exec('BEGIN IMMEDIATE');
        return;
      } catch (e) {
        const busy = typeof e === 'object' && e !== null && 'code' in e && e.code === 'SQLITE_BUSY';
        if (!busy || Date.now() > deadline) throw e;
      }
      throwIfAborted(signal);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 50);
    }
  } finally {
    db.pragma('busy_timeout = 10000');
  }
}

export function openSqlite(file: string, readonly = false): Database.Database {
  try {
    const db = new Database(file, { readonly, fileMustExist: readonly });
    db.pragma('busy_timeout = 10000');
    if (!readonly) db.pragma('journal_mode = WAL');
    return db;
  } catch (e) {
    throw new AppError('CONNECTION_FAILED', `cannot open SQLite database '${file}': ${String(e)}`, {
      cause: e,
    });
  }
}

export function openSqliteWriter(
  file: string,
  spec: DestinationSpec,
  signal: AbortSignal | undefined,
  ledger?: LedgerState,
  keyLedger?: LedgerState,
): Writer {
  throwIfAborted(signal);
  const table = requireTable(spec);
  const what = `writing to table '${table}'`;
  const db = openSqlite(file);
  let state: 'new' | 'open' | 'done' = 'new';
  let insert: Database.Statement<unknown[]> | undefined;
  let names: string[] = [];
  /** Per name: a decimal column, which stores digits as text (a bound double would read 12 as 12.0). */
  let exact: boolean[] = [];
  let rows = 0;
  let guard: ((batch: readonly Row[], firstRecord: number) => void) | undefined;

  const finish = () => {
    if (state === 'done') return;
    if (state === 'open' && db.inTransaction) db.exec('ROLLBACK');
    state = 'done';
    db.close();
  };
  signal?.addEventListener('abort', finish, { once: true });

  const start = async (batch: Row[]) => {
    const columns = writeColumns(spec, batch);
    const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
    names = columns.map((c) => c.name);
    await beginImmediate(db, signal);
    state = 'open';
    const existing = tableColumns(db, table);
    if (existing) requireKnownFields(table, existing, names, batch);
    if (!existing) {
      if (spec.create === false) {
        throw new AppError('BAD_REQUEST', `table '${table}' does not exist and create is off for this step`);
      }
      db.exec(createTableSql(table, columns, keys.length > 0 ? keys : (spec.keys ?? [])));
      if (spec.columnsInferred) guard = createdTypeGuard(columns);
    } else if (spec.mode === 'replace') {
      db.exec(`DELETE FROM ${quoteSqliteIdent(table)}`);
    }
    const typeOf = new Map((existing ?? columns).map((c) => [c.name, c.type]));
    exact = names.map((n) => typeOf.get(n) === 'decimal');
    const cols = names.map(quoteSqliteColumn);
    let sql = `INSERT INTO ${quoteSqliteIdent(table)} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    if (spec.mode === 'upsert') {
      const updates = names.filter((n) => !keys.includes(n)).map(quoteSqliteColumn);
      sql += ` ON CONFLICT (${keys.map(quoteSqliteColumn).join(', ')}) DO ${
        updates.length ? `UPDATE SET ${updates.map((c) => `${c} = excluded.${c}`).join(', ')}` : 'NOTHING'
      }`;
    }
    insert = db.prepare(sql);
  };

  const closed = () =>
    signal?.aborted ? cancelledError() : new AppError('BAD_REQUEST', `${what}: writer is closed`);
  const fail = (e: unknown) => {
    const err = signal?.aborted ? cancelledError() : sqliteError(e, what);
    finish();
    return err;
  };

  return {
    async write(batch) {
      if (state === 'done') throw closed();
      if (batch.length === 0) return;
      try {
        if (state === 'new') await start(batch);
        const stmt = insert;
        if (!stmt) return;
        guard?.(batch, rows + 1);
        const values: (string | number | bigint | Buffer | null)[] = new Array(names.length);
        for (const row of batch) {
          for (let i = 0; i < names.length; i++) {
            const v = fieldOf(row, names[i] ?? '');
            values[i] = exact[i] ? toSqliteDecimal(v) : toSqlite(v);
          }
          stmt.run(values);
        }
        rows += batch.length;
      } catch (e) {
        throw fail(e);
      }
      // Let timers and I/O run between batches: better-sqlite3 is synchronous.
      await new Promise<void>((r) => setImmediate(r));
    },
    async commit() {
      if (state === 'done') throw closed();
      try {
        if (state === 'new' && spec.columns.length > 0) await start([]);
        const mark = spec.commit;
        if (mark && ledger) {
          // The run's record commits with its rows (DDL is transactional here, like the rows).
          if (state === 'new') {
            await beginImmediate(db, signal);
            state = 'open';
          }
          db.exec(ledgerDdl('sqlite'));
          const prune = ledger.prune();
          if (prune) db.prepare(prune.text).run(...prune.values);
          const rec = recordSql('sqlite', mark, rows);
          db.prepare(rec.text).run(...rec.values);
        }
        const dedupe = spec.dedupe;
        if (dedupe && keyLedger && dedupe.keys.length > 0) {
          // The messages' keys commit with their rows (message-keys.ts); a key recorded before fails it.
          if (state === 'new') {
            await beginImmediate(db, signal);
            state = 'open';
          }
          db.exec(keysDdl('sqlite'));
          const prune = keyLedger.prune();
          if (prune) db.prepare(prune.text).run(...prune.values);
          for (const q of insertKeysSql(dedupe, new Date().toISOString()))
            db.prepare(q.text).run(...q.values);
        }
        if (state === 'open') db.exec('COMMIT');
        state = 'done';
        db.close();
        return { rowsWritten: rows };
      } catch (e) {
        throw fail(e);
      }
    },
    async rollback() {
      finish();
    },
  };
}
