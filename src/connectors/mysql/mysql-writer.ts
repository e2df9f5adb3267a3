/**
 * A MySQL/MariaDB write in one transaction, as multi-row INSERTs of a bounded size. DDL commits
 * implicitly in MySQL, so a missing table is created before the transaction starts and dropped again
 * if the write is rolled back.
 */

import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { escape as sqlEscape } from 'mysql2';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { AppError } from '../../core/errors.js';
import { type Column, fieldOf, type Row } from '../../core/records.js';
import { cancelledError, onAbort, throwIfAborted } from '../abort.js';
import { createdTypeGuard, refuseValues, requireTable, upsertKeys, writeColumns } from '../columns.js';
import type { LedgerState } from '../commit-ledger.js';
import type { DestinationSpec, Writer } from '../connector.js';
import { quoteMysqlColumn, quoteMysqlIdent, splitQualified } from '../sql-ident.js';
import { createTableSql, tableColumns } from './mysql-catalog.js';
import { mysqlError } from './mysql-errors.js';
import { ensureMysqlKeys, ensureMysqlLedger, recordMysqlCommit, recordMysqlKeys } from './mysql-ledger.js';
import { killQuery } from './mysql-read.js';
import { mysqlValue } from './mysql-types.js';

/** Statement size cap, well under MariaDB's default 16 MiB max_allowed_packet. */
const MAX_STATEMENT = 4 * 1024 * 1024;

/** Creates the table when missing (outside any transaction); returns whether it did. */
export async function ensureTable(
  conn: PoolConnection,
  spec: DestinationSpec,
  columns: readonly Column[],
  keys: readonly string[],
): Promise<boolean> {
  const table = requireTable(spec);
  if (await tableColumns(conn, table)) {
    if (keys.length > 0) await requireUniqueKey(conn, table, keys);
    return false;
  }
  if (spec.create === false) {
    throw new AppError('BAD_REQUEST', `table '${table}' does not exist and create is off for this step`);
  }
  await conn.query(createTableSql(table, columns, keys.length > 0 ? keys : (spec.keys ?? [])));
  return true;
}

/** ON DUPLICATE KEY needs a unique index on exactly the keys; without one MySQL would just append. */
async function requireUniqueKey(conn: PoolConnection, table: string, keys: readonly string[]): Promise<void> {
  const { schema, table: name } = splitQualified(table);
  const [rows] = await conn.query<RowDataPacket[]>(
    `select INDEX_NAME as idx, group_concat(COLUMN_NAME order by COLUMN_NAME separator '\n') as cols
       from information_schema.STATISTICS
      where TABLE_SCHEMA = coalesce(?, database()) and TABLE_NAME = ? and NON_UNIQUE = 0
      group by INDEX_NAME`,
    [schema ?? null, name],
  );
  const wanted = [...keys].sort().join('\n');
  if (!rows.some((r) => r.cols === wanted)) {
    throw new AppError(
      'BAD_REQUEST',
      `upsert into '${table}' needs a primary key or unique index on (${keys.join(', ')}); add one or use append`,
    );
  }
}

/**
 * Drops a table the write created, on the write's connection or, when that one died (a killed
 * connection is often why the write failed), on another from the pool. Returns whether the
 * write's own connection is still usable.
 */
export async function dropCreatedTable(
  pool: Pool,
  conn: PoolConnection | undefined,
  table: string,
): Promise<boolean> {
  const drop = `DROP TABLE IF EXISTS ${quoteMysqlIdent(table)}`;
  if (
    conn &&
    (await conn.query(drop).then(
      () => true,
      () => false,
    ))
  )
    return true;
  await pool.query(drop).catch(() => undefined);
  return false;
}

export function upsertClause(names: readonly string[], keys: readonly string[]): string {
  const updates = names.filter((n) => !keys.includes(n));
  const set = (updates.length > 0 ? updates : keys).map(
    (n) => `${quoteMysqlColumn(n)} = VALUES(${quoteMysqlColumn(n)})`,
  );
  return ` ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
}

/** Warnings that say a value was stored other than it was sent (truncated, rounded, out of range). */
const CHANGED_VALUE = new Set([1264, 1265, 1292, 1366, 1406]);

export async function openMysqlWriter(
  pool: Pool,
  spec: DestinationSpec,
  signal: AbortSignal | undefined,
  ledger?: LedgerState,
  keyLedger?: LedgerState,
): Promise<Writer> {
  throwIfAborted(signal);
  const table = requireTable(spec);
  const what = `writing to table '${table}'`;
  const conn = await pool.getConnection().catch((e: unknown) => {
    throw mysqlError(e, 'connecting');
  });
  let state: 'new' | 'open' | 'done' = 'new';
  let created = false;
  let names: string[] = [];
  let head = '';
  let tail = '';
  let rows = 0;
  let guard: ((batch: readonly Row[], firstRecord: number) => void) | undefined;
  const unhook = onAbort(signal, () => {
    void killQuery(pool, conn).then(() => finish());
  });

  async function finish(): Promise<void> {
    if (state === 'done') return;
    const wasOpen = state === 'open';
    state = 'done';
    unhook();
    let healthy = true;
    if (wasOpen)
      await conn.query('ROLLBACK').catch(() => {
        healthy = false;
      });
    if (created && !(await dropCreatedTable(pool, healthy ? conn : undefined, table))) healthy = false;
    if (healthy) conn.release();
    else conn.destroy();
  }

  async function start(batch: Row[]): Promise<void> {
    const columns = writeColumns(spec, batch);
    const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
    names = columns.map((c) => c.name);
    head = `INSERT INTO ${quoteMysqlIdent(table)} (${names.map(quoteMysqlColumn).join(', ')}) VALUES `;
    tail = spec.mode === 'upsert' ? upsertClause(names, keys) : '';
    created = await ensureTable(conn, spec, columns, keys);
    if (created && spec.columnsInferred) guard = createdTypeGuard(columns);
    if (spec.commit && ledger) await ensureMysqlLedger(conn, ledger);
    if (spec.dedupe && keyLedger) await ensureMysqlKeys(conn, keyLedger);
    await conn.query('START TRANSACTION');
    state = 'open';
    if (spec.mode === 'replace') await conn.query(`DELETE FROM ${quoteMysqlIdent(table)}`);
  }

  /** One INSERT; a value the server changed to fit (a rounded DECIMAL: only a note) fails the write. */
  async function run(sql: string): Promise<void> {
    const [res] = await conn.query<ResultSetHeader>(sql + tail);
    if (res.warningStatus === 0) return;
    const [warnings] = await conn.query<RowDataPacket[]>('SHOW WARNINGS');
    const changed = warnings.find((w) => CHANGED_VALUE.has(Number(w.Code)));
    if (changed) throw new AppError('INVALID_VALUE', `${what}: ${String(changed.Message)}`);
  }

  async function insert(batch: Row[]): Promise<void> {
    let sql = head;
    let count = 0;
    for (const row of batch) {
      const tuple = `(${names.map((n) => sqlEscape(mysqlValue(fieldOf(row, n)))).join(',')})`;
      if (count > 0 && sql.length + tuple.length > MAX_STATEMENT) {
        await run(sql);
        sql = head;
        count = 0;
      }
      sql += count > 0 ? `,${tuple}` : tuple;
      count++;
    }
    if (count > 0) await run(sql);
  }

  const closed = () =>
    signal?.aborted ? cancelledError() : new AppError('BAD_REQUEST', `${what}: writer is closed`);

  return {
    async write(batch) {
      if (state === 'done') throw closed();
      if (batch.length === 0) return;
      try {
        if (state === 'new') await start(batch);
        guard?.(batch, rows + 1);
        refuseValues(batch, rows + 1, nonFinite);
        await insert(batch);
        rows += batch.length;
      } catch (e) {
        const err = signal?.aborted ? cancelledError() : mysqlError(e, what);
        await finish();
        throw err;
      }
    },
    async commit() {
      if (state === 'done') throw closed();
      try {
        if (state === 'new' && spec.columns.length > 0) await start([]);
        if (spec.commit && ledger) {
          if (state === 'new') {
            await ensureMysqlLedger(conn, ledger);
            await conn.query('START TRANSACTION');
            state = 'open';
          }
          await recordMysqlCommit(conn, ledger, spec.commit, rows);
        }
        if (spec.dedupe && keyLedger && spec.dedupe.keys.length > 0) {
          if (state === 'new') {
            await ensureMysqlKeys(conn, keyLedger);
            await conn.query('START TRANSACTION');
            state = 'open';
          }
          await recordMysqlKeys(conn, keyLedger, spec.dedupe);
        }
        if (state === 'open') await conn.query('COMMIT');
        state = 'done';
        unhook();
        conn.release();
        return { rowsWritten: rows };
      } catch (e) {
        const err = signal?.aborted ? cancelledError() : mysqlError(e, what);
        await finish();
        throw err;
      }
    },
    rollback: finish,
  };
}

/** MySQL and MariaDB have no NaN or infinity: such a value is refused, never stored as something else. */
function nonFinite(v: unknown): string | undefined {
  return typeof v === 'number' && !Number.isFinite(v)
    ? `${v} cannot be stored: MySQL and MariaDB numbers are finite`
    : undefined;
}
