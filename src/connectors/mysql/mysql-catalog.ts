/** Catalog lookups and DDL for MySQL/MariaDB. */

import type { RowDataPacket } from 'mysql2';
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { Column } from '../../core/records.js';
import type { TableInfo } from '../connector.js';
import { quoteMysqlColumn, quoteMysqlIdent, splitQualified } from '../sql-ident.js';
import { columnOfColumnType, mysqlSqlType } from './mysql-types.js';

type Queryable = Pool | PoolConnection;

interface ColumnRow extends RowDataPacket {
  TABLE_SCHEMA: string;
  TABLE_NAME: string;
  COLUMN_NAME: string;
  COLUMN_TYPE: string;
  IS_NULLABLE: string;
  COLUMN_KEY: string;
}

export async function listTables(db: Queryable, schema?: string, table?: string): Promise<TableInfo[]> {
  const [rows] = await db.query<ColumnRow[]>(
    `select TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY
       from information_schema.COLUMNS
      where TABLE_SCHEMA = coalesce(?, database()) and (? is null or TABLE_NAME = ?)
      order by TABLE_NAME, ORDINAL_POSITION`,
    [schema ?? null, table ?? null, table ?? null],
  );
  const byTable = new Map<string, TableInfo>();
  for (const r of rows) {
    let info = byTable.get(r.TABLE_NAME);
    if (!info) {
      info = { schema: r.TABLE_SCHEMA, name: r.TABLE_NAME, columns: [] };
      byTable.set(r.TABLE_NAME, info);
    }
    info.columns.push({
      ...columnOfColumnType(r.COLUMN_NAME, r.COLUMN_TYPE),
      nullable: r.IS_NULLABLE === 'YES',
      ...(r.COLUMN_KEY === 'PRI' ? { primaryKey: true } : {}),
    });
  }
  return [...byTable.values()];
}

export async function tableColumns(db: Queryable, name: string): Promise<Column[] | undefined> {
  const { schema, table } = splitQualified(name);
  return (await listTables(db, schema, table))[0]?.columns;
}

export function createTableSql(
  name: string,
  columns: readonly Column[],
  keys: readonly string[] = [],
): string {
  const pk = keys.length > 0 ? keys : columns.filter((c) => c.primaryKey).map((c) => c.name);
  const defs = columns.map(
    (c) =>
      `${quoteMysqlColumn(c.name)} ${mysqlSqlType(c, pk.includes(c.name))}${c.nullable === false ? ' NOT NULL' : ''}`,
  );
  if (pk.length > 0) defs.push(`PRIMARY KEY (${pk.map(quoteMysqlColumn).join(', ')})`);
  return `CREATE TABLE ${quoteMysqlIdent(name)} (${defs.join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
}
