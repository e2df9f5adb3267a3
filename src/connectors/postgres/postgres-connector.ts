/**
 * The PostgreSQL connector: one pg Pool per configured connection, shared by every run using it.
 */
import pg from 'pg';
import { AppError } from '../../core/errors.js';
import { containPoolErrors } from '../../core/pg-pool-errors.js';
import { type CsvDialectOffer, PLAIN_CSV } from '../../formats/csv-dialect.js';
import { throwIfAborted } from '../abort.js';
import { LedgerState } from '../commit-ledger.js';
import type {
  Connector,
  CopyIn,
  CopyOut,
  DestinationSpec,
  SourceResult,
  SourceSpec,
  TableInfo,
  Writer,
} from '../connector.js';
import { KEYS_TABLE } from '../message-keys.js';
import { onConnection } from '../session.js';
import { splitStatements } from '../sql-lexer.js';
import { bindNamed, pgPlaceholder } from '../sql-params.js';
import { cancelBackend } from './cancel-backend.js';
import { InsertBatcher } from './insert-batcher.js';
import { pgError } from './pg-errors.js';
import { PointReader } from './point-reads.js';
import type { PgPoolState } from './pool-state.js';
import { listTables } from './postgres-catalog.js';
import type { PostgresConfig } from './postgres-config.js';
import { pgCopyIn, pgCopyOut } from './postgres-copy.js';
import { pgLedger } from './postgres-ledger.js';
import { type ConnectionFileReader, poolConfig } from './postgres-pool-config.js';
import { pgSession, readCursor } from './postgres-read.js';
import { pgTypeParsers } from './postgres-types.js';
import { openPgWriter } from './postgres-writer.js';
import { SmallWriteShapes } from './small-write-shapes.js';

/** COPY FROM STDIN is told the CSV it reads, so it takes a file's own dialect (the encoding stays UTF-8). */
const COPY_IN_CSV: CsvDialectOffer = {
  dialect: PLAIN_CSV,
  adapts: ['delimiter', 'quote', 'escape', 'nullValue', 'header'],
};

/** COPY TO STDOUT gives PostgreSQL's default CSV; a file in another dialect is written from rows. */
const COPY_OUT_CSV: CsvDialectOffer = { dialect: PLAIN_CSV, adapts: [] };

/**
 * One configured PostgreSQL connection. Everything its runs share lives in its fields (see
 * PgPoolState), so two connections never share a pool, a cache or a statement name.
 */
class PostgresConnector implements Connector, PgPoolState {
  readonly type = 'postgres';
  readonly pool: pg.Pool;
  readonly knownTables = new Set<string>();
  readonly smallWrites = new SmallWriteShapes();
  readonly inserts: InsertBatcher;
  readonly pointReads: PointReader;
  readonly ledger = new LedgerState('postgres');
  readonly keyLedger = new LedgerState('postgres', KEYS_TABLE);
  readonly commits;

  constructor(config: PostgresConfig, readFile?: ConnectionFileReader) {
    this.pool = new pg.Pool({ ...poolConfig(config, readFile), types: pgTypeParsers });
    // A connection that dies (server restart, terminated backend) fails only the run using it.
    containPoolErrors(this.pool);
    this.inserts = new InsertBatcher(this.pool);
    this.pointReads = new PointReader(this.pool, (client) => cancelBackend(this.pool, client));
    this.commits = pgLedger(this.pool);
  }

  async check(): Promise<void> {
    try {
      await this.pool.query('select 1');
    } catch (e) {
      throw new AppError(
        'CONNECTION_FAILED',
        `cannot reach PostgreSQL: ${pgError(e, 'connecting').message}`,
        {
          cause: e,
        },
      );
    }
  }

  async discover(): Promise<TableInfo[]> {
    return listTables(this.pool).catch((e: unknown) => {
      throw pgError(e, 'listing tables');
    });
  }

  read(spec: SourceSpec, signal?: AbortSignal): Promise<SourceResult> {
    return readCursor(this, spec, signal);
  }

  writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    return openPgWriter(this, spec, signal);
  }

  readonly copyIn: CopyIn = {
    dialect: () => COPY_IN_CSV,
    write: (spec, csv, dialect, signal) => pgCopyIn(this, spec, csv, dialect, signal),
  };

  readonly copyOut: CopyOut = {
    dialect: () => COPY_OUT_CSV,
    read: (spec, dialect, signal) => pgCopyOut(this, spec, dialect, signal),
  };

  async execute(
    sql: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<{ rowsAffected: number }> {
    throwIfAborted(signal);
    // Binding happens before any statement runs, so a missing parameter changes nothing.
    const statements = splitStatements(sql, false).map((s) => bindNamed(s, params, pgPlaceholder));
    return onConnection(
      pgSession(this.pool),
      signal,
      'running the statements',
      async (client) => {
        await client.query('begin');
        let rowsAffected = 0;
        for (const s of statements) {
          const res = await client.query(s.text, s.values);
          rowsAffected += res.rowCount ?? 0;
        }
        await client.query('commit');
        return { rowsAffected };
      },
      (client) => client.query('rollback'),
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function createPostgresConnector(
  config: PostgresConfig,
  readFile?: ConnectionFileReader,
): Connector & { readonly pool: pg.Pool } {
  return new PostgresConnector(config, readFile);
}
