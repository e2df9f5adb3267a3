/**
 * The SQLite connector (better-sqlite3). Each read and each writer opens its own connection: an open
 * iterator keeps a connection busy, and a writer's transaction must not absorb other runs' writes.
 * WAL mode lets readers go on while a writer holds its transaction. One more connection stays open for
 * the connector's life: when the last connection to a WAL database closes, SQLite checkpoints and deletes
 * the WAL, and every short run would pay for that checkpoint and for creating the WAL again.
 */
import { lstatSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import { type Column, DEFAULT_BATCH_SIZE, type Row, setField } from '../../core/records.js';
import { cancelledError, throwIfAborted } from '../abort.js';
import { COMMITS_TABLE, findSql, LedgerState, toRecorded } from '../commit-ledger.js';
import type { Connector, ConnectorType, SourceSpec } from '../connector.js';
import type { FileAccess } from '../file-access.js';
import { findKeysSql, KEYS_TABLE } from '../message-keys.js';
import { quoteSqliteColumn, quoteSqliteIdent } from '../sql-ident.js';
import { splitStatements } from '../sql-lexer.js';
import { bindNamed, positionalPlaceholder } from '../sql-params.js';
import { listTables } from './sqlite-catalog.js';
import { databaseFile, parseSqliteConfig, SqliteConfigSchema } from './sqlite-config.js';
import { sqliteError } from './sqlite-errors.js';
import { columnTypeOfDeclared, fromSqlite, toSqlite } from './sqlite-types.js';
import { beginImmediate, openSqlite, openSqliteWriter } from './sqlite-writer.js';

function sourceSql(spec: SourceSpec): { text: string; values: unknown[] } {
  if ('table' in spec) {
    const cols = spec.columns?.length ? spec.columns.map(quoteSqliteColumn).join(', ') : '*';
    return { text: `SELECT ${cols} FROM ${quoteSqliteIdent(spec.table)}`, values: [] };
  }
  if ('query' in spec) return bindNamed(spec.query, spec.params ?? {}, positionalPlaceholder);
  throw new AppError('BAD_REQUEST', 'a database source needs table or query, not file');
}

/** SQLite keeps these beside a database: a symlink there would make it write another file. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/** A statement may not reach another database file, nor leave the flow's one transaction. */
function attachedDatabases(db: ReturnType<typeof openSqlite>): string[] {
  const rows = db.prepare<[], { name: string }>('PRAGMA database_list').all();
  return rows.map((r) => r.name).filter((n) => n !== 'main' && n !== 'temp');
}

export function createSqliteConnector(file: string, access: FileAccess): Connector {
  let keeper: ReturnType<typeof openSqlite> | undefined;
  /** The database's real path, checked against the file roots right before every open. */
  // Synchronous, like the driver's own open: the check costs microseconds, not thread-pool trips.
  const allowed = (): string => {
    const real = access.requireSync(file, file);
    for (const suffix of SIDE_FILES) {
      if (lstatSync(real + suffix, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new AppError(
          'PATH_NOT_ALLOWED',
          `Path '${real}${suffix}' is a symlink; SQLite would write through it`,
        );
      }
    }
    return real;
  };
  const ledger = new LedgerState('sqlite');
  const keyLedger = new LedgerState('sqlite', KEYS_TABLE);
  const keepOpen = (real: string) => {
    if (keeper) return;
    try {
      keeper = openSqlite(real);
    } catch {
      // The file may not be creatable yet; each operation reports its own error.
    }
  };
  const open = (): ReturnType<typeof openSqlite> => {
    const real = allowed();
    keepOpen(real);
    return openSqlite(real);
  };
  const withDb = <T>(what: string, fn: (db: ReturnType<typeof openSqlite>) => T): T => {
    const db = open();
    try {
      return fn(db);
    } catch (e) {
      throw sqliteError(e, what);
    } finally {
      db.close();
    }
  };
  return {
    type: 'sqlite',
    async check() {
      withDb('checking', (db) => db.prepare('select 1').get());
    },
    async discover() {
      return withDb('listing tables', listTables);
    },
    async read(spec, signal) {
      throwIfAborted(signal);
      const q = sourceSql(spec);
      const db = open();
      let columns: Column[];
      let iter: IterableIterator<unknown[]>;
      try {
        // Integers as bigints, so none beyond 2^53 is rounded; fromSqlite applies the integer rule.
        const stmt = db.prepare<unknown[], unknown[]>(q.text).raw(true).safeIntegers(true);
        columns = stmt
          .columns()
          .map((c) => ({ name: c.name, type: columnTypeOfDeclared(c.type), nullable: true }));
        iter = stmt.iterate(...q.values.map(toSqlite));
      } catch (e) {
        db.close();
        throw sqliteError(e, 'running the query');
      }
      const names = columns.map((c) => c.name);
      const types = columns.map((c) => c.type);
      async function* batches(): AsyncGenerator<Row[]> {
        try {
          for (;;) {
            throwIfAborted(signal);
            const batch: Row[] = [];
            for (let r = iter.next(); !r.done; r = iter.next()) {
              const row: Row = {};
              for (let i = 0; i < names.length; i++)
                setField(row, names[i] ?? '', fromSqlite(r.value[i], types[i] ?? 'text'));
              batch.push(row);
              if (batch.length >= DEFAULT_BATCH_SIZE) break;
            }
            if (batch.length === 0) return;
            yield batch;
            // better-sqlite3 is synchronous: give timers, I/O and abort signals a turn between batches.
            await new Promise<void>((r) => setImmediate(r));
            if (batch.length < DEFAULT_BATCH_SIZE) return;
          }
        } catch (e) {
          throw signal?.aborted ? cancelledError() : sqliteError(e, 'reading');
        } finally {
          iter.return?.();
          db.close();
        }
      }
      return { columns, batches: batches() };
    },
    async writer(spec, signal) {
      const real = allowed();
      keepOpen(real);
      return openSqliteWriter(real, spec, signal, ledger, keyLedger);
    },
    commits: {
      async find(runId, step) {
        const real = await allowed();
        keepOpen(real);
        const db = openSqlite(real);
        try {
          const exists = db
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
            .get(COMMITS_TABLE);
          if (!exists) return undefined;
          const q = findSql('sqlite', runId, step);
          return toRecorded(db.prepare(q.text).get(...q.values) as Record<string, unknown> | undefined);
        } catch (e) {
          throw sqliteError(e, 'reading the commit ledger');
        } finally {
          db.close();
        }
      },
      async findKeys(scope, keys) {
        const real = await allowed();
        keepOpen(real);
        const db = openSqlite(real);
        try {
          const found = new Set<string>();
          const exists = db
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
            .get(KEYS_TABLE);
          if (!exists) return found;
          for (const q of findKeysSql(scope, keys)) {
            for (const row of db.prepare(q.text).all(...q.values)) {
              const key: unknown =
                typeof row === 'object' && row !== null ? Reflect.get(row, 'message_key') : undefined;
              if (typeof key === 'string') found.add(key);
            }
          }
          return found;
        } catch (e) {
          throw sqliteError(e, 'reading the message keys');
        } finally {
          db.close();
        }
      },
    },
    async execute(sql, params, signal) {
      throwIfAborted(signal);
      const statements = splitStatements(sql).map((s) => bindNamed(s, params, positionalPlaceholder));
      const db = open();
      try {
        await beginImmediate(db, signal);
        let rowsAffected = 0;
        for (const s of statements) {
          if (!db.inTransaction) {
            throw new AppError(
              'BAD_REQUEST',
              'The statements of a sql flow run in one transaction; a statement that ends it (COMMIT, ROLLBACK) is refused',
            );
          }
          rowsAffected += db.prepare(s.text).run(...s.values.map(toSqlite)).changes;
          const attached = attachedDatabases(db);
          if (attached.length > 0) {
            throw new AppError(
              'FORBIDDEN',
              `A sql flow may use only its connection's database; ATTACH (of '${attached.join("', '")}') is refused`,
            );
          }
        }
        db.exec('COMMIT');
        return { rowsAffected };
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw sqliteError(e, 'running the statements');
      } finally {
        db.close();
      }
    },
    async close() {
      keeper?.close();
      keeper = undefined;
    },
  };
}

export const sqliteConnectorType = {
  type: 'sqlite',
  title: 'SQLite',
  configSchema: SqliteConfigSchema,
  secretFields: [],
  localPaths: (config) =>
    typeof config['path'] === 'string' ? [{ field: '/path', path: config['path'] }] : [],
  create: (config, ctx) =>
    createSqliteConnector(databaseFile(parseSqliteConfig(config), ctx.dataDir), ctx.files),
} satisfies ConnectorType;
