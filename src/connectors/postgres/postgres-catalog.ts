/** Catalog lookups and DDL for PostgreSQL: what tables exist, their columns, creating missing ones. */
import type pg from 'pg';
import type { Column } from '../../core/records.js';
import type { TableInfo } from '../connector.js';
import { quotePgColumn, quotePgIdent, splitQualified } from '../sql-ident.js';
import { columnOfField, columnTypeOfDataType, pgSqlType } from './postgres-types.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

const COLUMNS_SQL = `
select c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable,
       c.numeric_precision, c.numeric_scale,
       exists (select 1 from information_schema.table_constraints tc
               join information_schema.key_column_usage k
                 on k.constraint_name = tc.constraint_name and k.table_schema = tc.table_schema
                and k.table_name = tc.table_name
              where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = c.table_schema
                and tc.table_name = c.table_name and k.column_name = c.column_name) as pk
  from information_schema.columns c
  join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
 where c.table_schema not in ('pg_catalog', 'information_schema')
   and ($1::text is null or c.table_schema = $1) and ($2::text is null or c.table_name = $2)
 order by c.table_schema, c.table_name, c.ordinal_position`;

interface ColumnRow {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
  pk: boolean;
}

export async function listTables(db: Queryable, schema?: string, table?: string): Promise<TableInfo[]> {
  const res = await db.query<ColumnRow>(COLUMNS_SQL, [schema ?? null, table ?? null]);
  const byTable = new Map<string, TableInfo>();
  for (const r of res.rows) {
    const key = `${r.table_schema}.${r.table_name}`;
    let info = byTable.get(key);
    if (!info) {
      info = { schema: r.table_schema, name: r.table_name, columns: [] };
      byTable.set(key, info);
    }
    const type = columnTypeOfDataType(r.data_type);
    // numeric(p,s) reports both; an unbounded numeric reports neither.
    const exact =
      type === 'decimal' && r.numeric_precision !== null
        ? { precision: r.numeric_precision, scale: r.numeric_scale ?? 0 }
        : {};
    info.columns.push({
      name: r.column_name,
      type,
      ...exact,
      nullable: r.is_nullable === 'YES',
      ...(r.pk ? { primaryKey: true } : {}),
    });
  }
  return [...byTable.values()];
}

/** Columns of a table as seen on the search path, or undefined when it does not exist. */
export async function tableColumns(db: Queryable, name: string): Promise<Column[] | undefined> {
  const res = await db.query<{ oid: number | null }>('select to_regclass($1)::oid as oid', [
    quotePgIdent(name),
  ]);
  const oid = res.rows[0]?.oid;
  if (oid === null || oid === undefined) return undefined;
  const cols = await db.query<{
    attname: string;
    typname: string;
    atttypid: number;
    atttypmod: number;
    notnull: boolean;
    pk: boolean;
  }>(
    `select a.attname, format_type(a.atttypid, null) as typname, a.atttypid::int as atttypid, a.atttypmod,
            a.attnotnull as notnull,
            coalesce(a.attnum = any(i.indkey), false) as pk
       from pg_attribute a
       left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
      where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [oid],
  );
  return cols.rows.map((c) => ({
    ...columnOfField(c.attname, c.atttypid, c.atttypmod),
    type: columnTypeOfDataType(c.typname),
    nullable: !c.notnull,
    ...(c.pk ? { primaryKey: true } : {}),
  }));
}

export function createTableSql(
  name: string,
  columns: readonly Column[],
  keys: readonly string[] = [],
): string {
  const defs = columns.map(
    (c) => `${quotePgColumn(c.name)} ${pgSqlType(c)}${c.nullable === false ? ' not null' : ''}`,
  );
  const pk = keys.length > 0 ? keys : columns.filter((c) => c.primaryKey).map((c) => c.name);
  if (pk.length > 0) defs.push(`primary key (${pk.map(quotePgColumn).join(', ')})`);
  return `create table if not exists ${quotePgIdent(name)} (${defs.join(', ')})`;
}

export { splitQualified };
