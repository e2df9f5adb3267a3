import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { containPoolErrors } from '../core/pg-pool-errors.js';
import type { Database } from './schema.js';

export type StoreDialect = 'sqlite' | 'postgres';

/**
 * The metadata store and what its database can do. Code outside store/ asks for a capability, never
 * which database it is: `dialect` is for display and for migrations (which are DDL written once per
 * database).
 */
export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Human-readable location for logs: a file path or a URL without password. */
  location: string;
  /** How the n-th bound value (from 1) of a statement is written in its SQL text. */
  placeholder: (n: number) => string;
  /**
   * Whether statements may write inside WITH (PostgreSQL's data-modifying CTEs, with UPDATE … FROM
   * VALUES and compare-and-set), so a group commit and the changes that go with it can be one statement
   * without a transaction around it.
   */
  supportsOneStatementGroupCommit: boolean;
  /**
   * Whether write transactions of several connections run at once, so a row read in order to change it
   * must be locked first; false where one write transaction holds the whole store.
   */
  needsWriteLock: boolean;
  /** Whether server processes of a cluster may share the store; false: one server process owns it. */
  shared: boolean;
  /**
   * Inside a transaction: waits for and holds `key` until the transaction ends, so transactions that
   * take the same key run one after another. Nothing to do where one write transaction holds the store.
   */
  lock(trx: Transaction<Database>, key: string): Promise<void>;
  close(): Promise<void>;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

/** Creates the data directory if needed and makes it the server user's alone (mode 0700). */
export function privateDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Opens the metadata store: PostgreSQL when a URL is given, otherwise the embedded SQLite file in the
 * data directory. Does not migrate; call migrateToLatest() once at start-up.
 */
export function openStore(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  storePoolSize?: number;
}): Store {
  if (options.databaseUrl) {
    const url = options.databaseUrl;
    // Kysely asks for the pool on first use; pg loads then, so a process on the embedded store never loads it.
    const pool = async () => {
      const { default: pg } = await import('pg');
      // int8 (count(*), bigserial ids) as numbers: the store never holds values beyond 2^53.
      const types = {
        getTypeParser: (oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text'),
      };
      // Every run and audit commit touches the store: size the pool for concurrent requests, not for one.
      const pool = new pg.Pool({ connectionString: url, max: options.storePoolSize ?? 20, types });
      // A connection that dies (a server restart, a terminated backend) fails what runs on it and is
      // replaced on next use; it must not crash the process.
      containPoolErrors(pool);
      return pool;
    };
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: 'postgres',
      location: redactUrl(options.databaseUrl),
      placeholder: (n) => `$${n}`,
      supportsOneStatementGroupCommit: true,
      needsWriteLock: true,
      shared: true,
      lock: async (trx, key) => {
        await sql`select pg_advisory_xact_lock(hashtext(${`integrator.${key}`}))`.execute(trx);
      },
      close: () => db.destroy(),
    };
  }
  privateDataDir(options.dataDir);
  const file = join(options.dataDir, 'integrator.db');
  const sqlite = new SQLite(file);
  // Users, password hashes and the audit trail: readable by the server's own user only. SQLite gives
  // its -wal and -shm files the database file's mode.
  chmodSync(file, 0o600);
  // WAL keeps readers off the writer's back; a committed transaction survives a process kill.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    location: file,
    placeholder: () => '?',
    supportsOneStatementGroupCommit: false,
    needsWriteLock: false,
    // Another process may open the file (the CLI), but runs are executed by one server only.
    shared: false,
    // A write transaction holds the whole database file.
    lock: async () => undefined,
    close: () => db.destroy(),
  };
}
