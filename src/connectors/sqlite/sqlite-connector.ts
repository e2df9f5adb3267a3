/**
 * The SQLite connector (better-sqlite3). Each read and each writer opens its own connection: an open
 * iterator keeps a connection busy, and a writer's transaction must not absorb other runs' writes.
 * WAL mode lets readers go on while a writer holds its transaction. One more connection stays open for
 * the connector's life: when the last connection to a WAL database closes, SQLite checkpoints and deletes
 * the WAL, and every short run would pay for that checkpoint and for creating the WAL again.
 */
import { AppError } from '../../core/errors.js';
import { type Column, DEFAULT_BATCH_SIZE, type Row, setField } from '../../core/records.js';
import { cancelledError, throwIfAborted } from '../abort.js';
import type { Connector, ConnectorType, SourceSpec } from '../connector.js';
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

export function createSqliteConnector(file: string): Connector {
  let keeper: ReturnType<typeof openSqlite> | undefined;
  const keepOpen = () => {
    if (keeper) return;
    try {
      keeper = openSqlite(file);
    } catch {
      // The file may not be creatable yet; each operation reports its own error.
    }
  };
  const withDb = <T>(what: string, fn: (db: ReturnType<typeof openSqlite>) => T): T => {
    keepOpen();
    const db = openSqlite(file);
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
      keepOpen();
      const db = openSqlite(file);
      let columns: Column[];
      let iter: IterableIterator<unknown[]>;
      try {
        const stmt = db.prepare<unknown[], unknown[]>(q.text).raw(true);
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
      keepOpen();
      return openSqliteWriter(file, spec, signal);
    },
    async execute(sql, params, signal) {
      throwIfAborted(signal);
      const statements = splitStatements(sql).map((s) => bindNamed(s, params, positionalPlaceholder));
      keepOpen();
      const db = openSqlite(file);
      try {
        await beginImmediate(db, signal);
        let rowsAffected = 0;
        for (const s of statements) rowsAffected += db.prepare(s.text).run(...s.values.map(toSqlite)).changes;
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
  create: (config, ctx) => createSqliteConnector(databaseFile(parseSqliteConfig(config), ctx.dataDir)),
} satisfies ConnectorType;
