/**
 * The target of a PostgreSQL write, prepared inside the write's transaction: created when missing,
 * emptied for replace, and for upsert a temporary staging table merged into it at the end. Shared by
 * the row writer, the small-write path and the CSV fast path.
 */
import type pg from 'pg';
import { AppError } from '../../core/errors.js';
import type { Column } from '../../core/records.js';
import { requireTable, upsertKeys } from '../columns.js';
import type { DestinationSpec } from '../connector.js';
import { quotePgColumn, quotePgIdent } from '../sql-ident.js';
import { createTableSql, tableColumns } from './postgres-catalog.js';

const STAGE = 'integrator_stage';

/**
 * Opens the transaction and prepares the target (create, truncate, staging). Returns the table the
 * rows should be copied into. Shared by the row writer and the CSV fast path.
 */
export async function prepareTarget(
  client: pg.PoolClient,
  spec: DestinationSpec,
  columns: readonly Column[],
  stage = true,
): Promise<{ into: string; keys: string[]; created: boolean }> {
  const table = requireTable(spec);
  const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
  const existing = await tableColumns(client, table);
  if (!existing) {
    if (spec.create === false) {
      throw new AppError('BAD_REQUEST', `table '${table}' does not exist and create is off for this step`);
    }
    await client.query(createTableSql(table, columns, keys.length > 0 ? keys : (spec.keys ?? [])));
  } else if (spec.mode === 'replace') {
    // TRUNCATE is transactional here: readers keep seeing the old rows until commit.
    await client.query(`truncate table ${quotePgIdent(table)}`);
  }
  const created = !existing;
  if (spec.mode !== 'upsert' || !stage) return { into: quotePgIdent(table), keys, created };
  await client.query(
    `create temp table ${STAGE} (like ${quotePgIdent(table)} including defaults) on commit drop`,
  );
  return { into: STAGE, keys, created };
}

/** Moves staged rows into the target; the last staged row for a key wins. */
export async function mergeStage(
  client: pg.PoolClient,
  table: string,
  names: readonly string[],
  keys: readonly string[],
): Promise<number> {
  const cols = names.map(quotePgColumn).join(', ');
  const keyList = keys.map(quotePgColumn).join(', ');
  const updates = names.filter((n) => !keys.includes(n));
  const action =
    updates.length === 0
      ? 'do nothing'
      : `do update set ${updates.map((n) => `${quotePgColumn(n)} = excluded.${quotePgColumn(n)}`).join(', ')}`;
  const res = await client.query(
    `insert into ${quotePgIdent(table)} (${cols})
     select distinct on (${keyList}) ${cols} from ${STAGE} order by ${keyList}, ctid desc
     on conflict (${keyList}) ${action}`,
  );
  return res.rowCount ?? 0;
}
