/**
 * The PostgreSQL connector: one pg Pool per configured connection, shared by every run using it.
 */
import pg from 'pg';
import { AppError } from '../../core/errors.js';
import { throwIfAborted } from '../abort.js';
import type { Connector, ConnectorType, TableInfo } from '../connector.js';
import { dbError } from '../db-errors.js';
import { onConnection } from '../session.js';
import { splitStatements } from '../sql-lexer.js';
import { bindNamed, pgPlaceholder } from '../sql-params.js';
import { listTables } from './postgres-catalog.js';
import {
  type PostgresConfig,
  PostgresConfigSchema,
  parsePostgresConfig,
  poolConfig,
} from './postgres-config.js';
import { pgCopyIn, pgCopyOut } from './postgres-copy.js';
import { pgSession, readCursor } from './postgres-read.js';
import { pgTypeParsers } from './postgres-types.js';
import { openPgWriter } from './postgres-writer.js';

export function createPostgresConnector(config: PostgresConfig): Connector & { readonly pool: pg.Pool } {
  const pool = new pg.Pool({ ...poolConfig(config), types: pgTypeParsers });
  // An idle client that dies (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return {
    type: 'postgres',
    pool,
    async check() {
      try {
        await pool.query('select 1');
      } catch (e) {
        throw new AppError(
          'CONNECTION_FAILED',
          `cannot reach PostgreSQL: ${dbError(e, 'connecting').message}`,
          {
            cause: e,
          },
        );
      }
    },
    async discover(): Promise<TableInfo[]> {
      return listTables(pool).catch((e: unknown) => {
        throw dbError(e, 'listing tables');
      });
    },
    read: (spec, signal) => readCursor(pool, spec, signal),
    writer: (spec, signal) => openPgWriter(pool, spec, signal),
    copyIn: (spec, csv, options, signal) => pgCopyIn(pool, spec, csv, options, signal),
    copyOut: (spec, options, signal) => pgCopyOut(pool, spec, options, signal),
    async execute(sql, params, signal) {
      throwIfAborted(signal);
      // Binding happens before any statement runs, so a missing parameter changes nothing.
      const statements = splitStatements(sql, false).map((s) => bindNamed(s, params, pgPlaceholder));
      return onConnection(
        pgSession(pool),
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
    },
    async close() {
      await pool.end();
    },
  };
}

export const postgresConnectorType: ConnectorType = {
  type: 'postgres',
  title: 'PostgreSQL',
  configSchema: PostgresConfigSchema,
  secretFields: ['password', 'url'],
  create: (config) => createPostgresConnector(parsePostgresConfig(config)),
};
