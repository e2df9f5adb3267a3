/**
 * The CSV fast path into MySQL/MariaDB: LOAD DATA LOCAL INFILE fed from the byte stream (mysql2's
 * infileStreamFactory), inside one transaction. LOAD DATA LOCAL turns bad values and duplicate keys
 * into warnings instead of errors, so any warning fails the load and rolls it back: nothing is
 * silently skipped or truncated.
 */
import { Readable } from 'node:stream';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { escape as sqlEscape } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { AppError } from '../../core/errors.js';
import type { ByteSource } from '../../formats/format.js';
import { throwIfAborted } from '../abort.js';
import { requireTable, upsertKeys } from '../columns.js';
import type { LedgerState } from '../commit-ledger.js';
import type { CsvCopyOptions, DestinationSpec } from '../connector.js';
import { csvLayout } from '../csv-header.js';
import { onConnection } from '../session.js';
import { quoteMysqlColumn, quoteMysqlIdent } from '../sql-ident.js';
import { LoadDataBytes } from './load-data-bytes.js';
import { ensureMysqlLedger, recordMysqlCommit } from './mysql-ledger.js';
import { mysqlSession } from './mysql-read.js';
import { dropCreatedTable, ensureTable, upsertClause } from './mysql-writer.js';

const STAGE = 'integrator_stage';

/** A zone offset at the end of timestamp text: Z, +hh, +hhmm or +hh:mm (PostgreSQL prints +hh). */
const OFFSET = '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$';
const WITH_OFFSET = `[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]*)?)?[[:space:]]*${OFFSET}`;

/**
 * SQL turning timestamp text with a zone offset (a PostgreSQL timestamptz, ISO 8601 with Z) into the
 * UTC DATETIME it stands for, as the row path writes an instant; text without an offset is left as it
 * is. Done with interval arithmetic rather than CONVERT_TZ, which leaves values before 1970 unconverted.
 */
function utcDatetime(v: string): string {
  const o = `REGEXP_SUBSTR(${v}, ${sqlEscape(OFFSET)})`;
  const minutes =
    `IF(UPPER(${o}) = 'Z', 0, IF(LEFT(${o}, 1) = '-', -1, 1) * (CAST(SUBSTRING(${o}, 2, 2) AS SIGNED) * 60 + ` +
    `IF(LENGTH(REPLACE(${o}, ':', '')) = 5, CAST(RIGHT(${o}, 2) AS SIGNED), 0)))`;
  const local = `CAST(REPLACE(REGEXP_REPLACE(${v}, ${sqlEscape(`[[:space:]]*${OFFSET}`)}, ''), 'T', ' ') AS DATETIME(6))`;
  return `IF(${v} REGEXP ${sqlEscape(WITH_OFFSET)}, ${local} - INTERVAL ${minutes} MINUTE, ${v})`;
}

export async function mysqlCopyIn(
  pool: Pool,
  spec: DestinationSpec,
  csv: ByteSource,
  options: CsvCopyOptions,
  signal: AbortSignal | undefined,
  ledger?: LedgerState,
): Promise<{ rowsWritten: number }> {
  throwIfAborted(signal);
  const table = requireTable(spec);
  const header = options.header !== false;
  const delimiter = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  const { names, columns, bytes, crlf } = await csvLayout(spec, csv, options);
  const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
  let created = false;
  return onConnection(
    mysqlSession(pool),
    signal,
    `loading CSV into '${table}'`,
    async (conn) => {
      created = await ensureTable(conn, spec, columns, keys);
      if (spec.commit && ledger) await ensureMysqlLedger(conn, ledger);
      await conn.query('START TRANSACTION');
      if (spec.mode === 'replace') await conn.query(`DELETE FROM ${quoteMysqlIdent(table)}`);
      let into = quoteMysqlIdent(table);
      if (spec.mode === 'upsert') {
        // A temporary table does not commit the transaction; REPLACE makes the last row for a key win.
        await conn.query(`CREATE TEMPORARY TABLE ${STAGE} LIKE ${into}`);
        into = STAGE;
      }
      // The bytes are rewritten so that LOAD DATA reads nulls, empty text and backslashes as the
      // row path does (load-data-bytes.ts); they then need the backslash as escape character.
      // Timestamps go through a variable to land in UTC (a null, \N, stays null).
      const targets = names.map((n, i) =>
        columns[i]?.type === 'timestamp' ? `@c${i}` : quoteMysqlColumn(n),
      );
      const sets = names.flatMap((n, i) =>
        columns[i]?.type === 'timestamp' ? [`${quoteMysqlColumn(n)} = ${utcDatetime(`@c${i}`)}`] : [],
      );
      const sql =
        `LOAD DATA LOCAL INFILE 'integrator.csv' ${spec.mode === 'upsert' ? 'REPLACE ' : ''}INTO TABLE ${into}` +
        ` CHARACTER SET utf8mb4 FIELDS TERMINATED BY ${sqlEscape(delimiter)} OPTIONALLY ENCLOSED BY ${sqlEscape(quote)}` +
        ` ESCAPED BY '\\\\' LINES TERMINATED BY ${sqlEscape(crlf ? '\r\n' : '\n')}${header ? ' IGNORE 1 LINES' : ''}` +
        ` (${targets.join(', ')})${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`;
      const rewrite = new LoadDataBytes({
        delimiter,
        quote,
        escape: options.escape ?? quote,
        nullValue: options.nullValue ?? '',
      });
      // An empty packet ends a LOCAL INFILE transfer, so no empty chunk may reach the stream.
      async function* rewritten(): AsyncGenerator<Uint8Array> {
        for await (const chunk of bytes) {
          const out = rewrite.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
          if (out.length > 0) yield out;
        }
        const last = rewrite.end();
        if (last.length > 0) yield last;
      }
      const [res] = await conn.query<ResultSetHeader>({
        sql,
        infileStreamFactory: () => Readable.from(rewritten()),
      });
      if (res.warningStatus > 0) {
        const [w] = await conn.query<RowDataPacket[]>('SHOW WARNINGS LIMIT 1');
        const first = w[0];
        // A value LOAD DATA would truncate, round or refuse: the data's fault, as on the row path.
        throw new AppError(
          'INVALID_VALUE',
          `loading CSV into '${table}' failed: ${first ? String(first.Message) : 'the server reported warnings'}`,
        );
      }
      let rows = res.affectedRows;
      if (spec.mode === 'upsert') {
        const [m] = await conn.query<ResultSetHeader>(
          `INSERT INTO ${quoteMysqlIdent(table)} (${names.map(quoteMysqlColumn).join(', ')}) SELECT ${names
            .map(quoteMysqlColumn)
            .join(', ')} FROM ${STAGE}${upsertClause(names, keys)}`,
        );
        rows = Number(
          (await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${STAGE}`))[0][0]?.n ??
            m.affectedRows,
        );
        await conn.query(`DROP TEMPORARY TABLE ${STAGE}`);
      }
      if (spec.commit && ledger) await recordMysqlCommit(conn, ledger, spec.commit, rows);
      await conn.query('COMMIT');
      return { rowsWritten: rows };
    },
    async (conn) => {
      // The staging table is per-session; onConnection does not reuse a connection that failed.
      const alive = await conn.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      if (created) await dropCreatedTable(pool, alive ? conn : undefined, table);
    },
  );
}
