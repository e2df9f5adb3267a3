/** Catalog lookups and DDL for SQLite. */
import type Database from 'better-sqlite3';
import type { Column } from '../../core/records.js';
import type { TableInfo } from '../connector.js';
import { quoteSqliteColumn, quoteSqliteIdent } from '../sql-ident.js';
import { columnTypeOfDeclared, SQLITE_SQL_TYPES } from './sqlite-types.js';

interface PragmaColumn {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

export function tableColumns(db: Database.Database, table: string): Column[] | undefined {
  const cols = db.prepare<[], PragmaColumn>(`pragma table_info(${quoteSqliteIdent(table)})`).all();
  if (cols.length === 0) return undefined;
  return cols.map((c) => ({
    name: c.name,
    type: columnTypeOfDeclared(c.type),
    nullable: c.notnull === 0,
    ...(c.pk > 0 ? { primaryKey: true } : {}),
  }));
}

export function listTables(db: Database.Database): TableInfo[] {
  const names = db
    .prepare<[], { name: string }>(
      "select name from sqlite_schema where type in ('table', 'view') and name not like 'sqlite_%' order by name",
    )
    .all();
  return names.map(({ name }) => ({ name, columns: tableColumns(db, name) ?? [] }));
}

export function createTableSql(name: string, columns: readonly Column[], keys: readonly string[]): string {
  const pk = keys.length > 0 ? keys : columns.filter((c) => c.primaryKey).map((c) => c.name);
  const defs = columns.map(
    (c) =>
      `${quoteSqliteColumn(c.name)} ${SQLITE_SQL_TYPES[c.type]}${c.nullable === false ? ' NOT NULL' : ''}`,
  );
  if (pk.length > 0) defs.push(`PRIMARY KEY (${pk.map(quoteSqliteColumn).join(', ')})`);
  return `CREATE TABLE ${quoteSqliteIdent(name)} (${defs.join(', ')})`;
}
