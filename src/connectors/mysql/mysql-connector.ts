/** The MySQL/MariaDB connector: one mysql2 pool per configured connection. */
import type { ResultSetHeader } from 'mysql2';
import { type Pool as CorePool, createPool } from 'mysql2';
import type mysql from 'mysql2/promise';
import { AppError } from '../../core/errors.js';
import { type CsvDialectOffer, PLAIN_CSV } from '../../formats/csv-dialect.js';
import { throwIfAborted } from '../abort.js';
import { LedgerState } from '../commit-ledger.js';
import type { Connector } from '../connector.js';
import { KEYS_TABLE } from '../message-keys.js';
import { onConnection } from '../session.js';
import { splitStatements } from '../sql-lexer.js';
import { bindNamed, positionalPlaceholder } from '../sql-params.js';
import { LoadDataBytes } from './load-data-bytes.js';
import { listTables } from './mysql-catalog.js';
import { type MysqlConfig, mysqlPoolOptions } from './mysql-config.js';
import { mysqlCopyIn } from './mysql-copy.js';
import { mysqlError } from './mysql-errors.js';
import { mysqlLedger } from './mysql-ledger.js';
import { mysqlRead, mysqlSession } from './mysql-read.js';
import { mysqlValue } from './mysql-types.js';
import { openMysqlWriter } from './mysql-writer.js';

/**
 * LOAD DATA is told the CSV it reads, so it takes a file's own dialect (the encoding stays UTF-8), as
 * long as its escape is the quote or a backslash (see load-data-bytes.ts).
 */
const LOAD_DATA_CSV: CsvDialectOffer = {
  dialect: PLAIN_CSV,
  adapts: ['delimiter', 'quote', 'escape', 'nullValue', 'header'],
  accepts: (d) => LoadDataBytes.takes(d.escape, d.quote) && d.delimiter !== '\\' && d.quote !== '\\',
};

export function createMysqlConnector(config: MysqlConfig): Connector & { readonly pool: mysql.Pool } {
  // One pool; the callback face streams result rows, the promise face does everything else.
  const core: CorePool = createPool(mysqlPoolOptions(config));
  // mysql2 emits 'error' on a connection that dies between commands, and the pool listens only once:
  // a second error (a write after the socket closed) would be thrown. Each statement reports its own
  // failure; the connection's events only need a listener for the connection's whole life.
  core.on('connection', (conn) => {
    conn.on('error', () => undefined);
  });
  const pool = core.promise();
  const ledger = new LedgerState('mysql');
  const keyLedger = new LedgerState('mysql', KEYS_TABLE);
  return {
    type: 'mysql',
    pool,
    async check() {
      try {
        await pool.query('select 1');
      } catch (e) {
        throw new AppError(
          'CONNECTION_FAILED',
          `cannot reach MySQL/MariaDB: ${mysqlError(e, 'connecting').message}`,
          {
            cause: e,
          },
        );
      }
    },
    discover: () =>
      listTables(pool).catch((e: unknown) => {
        throw mysqlError(e, 'listing tables');
      }),
    read: (spec, signal) => mysqlRead(core, pool, spec, signal),
    writer: (spec, signal) => openMysqlWriter(pool, spec, signal, ledger, keyLedger),
    commits: mysqlLedger(pool),
    copyIn: {
      dialect: () => LOAD_DATA_CSV,
      write: (spec, csv, dialect, signal) => mysqlCopyIn(pool, spec, csv, dialect, signal, ledger),
    },
    async execute(sql, params, signal) {
      throwIfAborted(signal);
      const statements = splitStatements(sql).map((s) => bindNamed(s, params, positionalPlaceholder));
      return onConnection(
        mysqlSession(pool),
        signal,
        'running the statements',
        async (conn) => {
          // Note: DDL statements commit implicitly in MySQL; only DML is covered by the transaction.
          await conn.query('START TRANSACTION');
          let rowsAffected = 0;
          for (const s of statements) {
            const [res] = await conn.query<ResultSetHeader>(s.text, s.values.map(mysqlValue));
            rowsAffected += res.affectedRows ?? 0;
          }
          await conn.query('COMMIT');
          return { rowsAffected };
        },
        (conn) => conn.query('ROLLBACK'),
      );
    },
    async close() {
      await pool.end();
    },
  };
}
