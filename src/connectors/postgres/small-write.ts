/**
 * The small-write path: a write of a few rows (a listener call, a trickle) is one INSERT … ON CONFLICT
 * with bound values instead of a COPY. Into a table known to exist, outside replace mode, that statement
 * is the whole transaction, shared with concurrent small writes of the same shape (see InsertBatcher).
 */
import type pg from 'pg';
import type { Row } from '../../core/records.js';
import { requireTable, upsertKeys, writeColumns } from '../columns.js';
import type { DestinationSpec } from '../connector.js';
import { quotePgColumn, quotePgIdent } from '../sql-ident.js';
import type { InsertShape } from './insert-batcher.js';
import type { PgPoolState } from './pool-state.js';
import { prepareTarget } from './postgres-target.js';

/** A write of at most this many rows (in all) is one INSERT with bound values instead of a COPY. */
export function smallLimit(columnCount: number): number {
  // PostgreSQL takes at most 65535 bind parameters per statement.
  return Math.max(1, Math.min(500, Math.floor(60_000 / Math.max(columnCount, 1))));
}

/** A bound value as node-postgres sends it, converted the way the COPY path converts it. */
function pgParam(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date || v === null || typeof v !== 'object')
    return typeof v === 'bigint' ? v.toString() : v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return JSON.stringify(v);
}

/** For upsert: one row per key, the last one winning, as the staging merge does. */
function lastPerKey(rows: readonly Row[], keys: readonly string[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const r of rows) byKey.set(JSON.stringify(keys.map((k) => r[k] ?? null)), r);
  return [...byKey.values()];
}

function insertSql(
  table: string,
  names: readonly string[],
  keys: readonly string[],
  rowCount: number,
): string {
  const cols = names.map(quotePgColumn).join(', ');
  const tuples: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    tuples.push(`(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`);
  }
  let sql = `insert into ${quotePgIdent(table)} (${cols}) values ${tuples.join(', ')}`;
  if (keys.length > 0) {
    const updates = names.filter((n) => !keys.includes(n));
    const keyList = keys.map(quotePgColumn).join(', ');
    sql +=
      updates.length === 0
        ? ` on conflict (${keyList}) do nothing`
        : ` on conflict (${keyList}) do update set ${updates.map((n) => `${quotePgColumn(n)} = excluded.${quotePgColumn(n)}`).join(', ')}`;
  }
  return sql;
}

/** Small writes of at most this many rows run as named (server-side prepared) statements. */
const PREPARED_MAX_ROWS = 4;

/**
 * Small-write statements by shape (table, columns, conflict keys): the INSERT texts by row count, quoted
 * once, and for few rows the name they are prepared under on each pooled connection (parsed and planned
 * once per connection, then only bound and executed). Bounded: past the limit the map starts over.
 */
class SmallWriteShape implements InsertShape {
  private readonly texts = new Map<number, { sql: string; name: string | undefined }>();

  constructor(
    readonly key: string,
    private readonly table: string,
    private readonly names: readonly string[],
    private readonly keys: readonly string[],
    private readonly nextName: () => string,
  ) {}

  get columns(): number {
    return this.names.length;
  }

  /**
   * Whether writes of this shape may share a statement: each must count exactly its own rows, which an
   * upsert that does nothing on a conflict would not.
   */
  get sharable(): boolean {
    return this.keys.length === 0 || this.names.some((n) => !this.keys.includes(n));
  }

  private text(rows: number): { sql: string; name: string | undefined } {
    let t = this.texts.get(rows);
    if (!t) {
      const name = rows <= PREPARED_MAX_ROWS ? this.nextName() : undefined;
      t = { sql: insertSql(this.table, this.names, this.keys, rows), name };
      if (this.texts.size >= 64) this.texts.clear();
      this.texts.set(rows, t);
    }
    return t;
  }

  sql(rows: number): string {
    return this.text(rows).sql;
  }

  name(rows: number): string | undefined {
    return this.text(rows).name;
  }
}

const MAX_SMALL_WRITES = 2000;

/**
 * The small-write shapes of one pool. Statement names only need to be unique per connection, and a
 * pool's connections serve that pool alone.
 */
export class SmallWriteShapes {
  private readonly shapes = new Map<string, SmallWriteShape>();
  private statementCount = 0;

  of(table: string, names: readonly string[], keys: readonly string[]): SmallWriteShape {
    const key = `${table}\u0000${names.join('\u0001')}\u0000${keys.join('\u0001')}`;
    let shape = this.shapes.get(key);
    if (!shape) {
      if (this.shapes.size >= MAX_SMALL_WRITES) this.shapes.clear();
      shape = new SmallWriteShape(key, table, names, keys, () => `integrator_w${++this.statementCount}`);
      this.shapes.set(key, shape);
    }
    return shape;
  }

  /** Forgets a shape, so its statements are prepared afresh under new names. */
  forget(shape: SmallWriteShape): void {
    this.shapes.delete(shape.key);
  }
}

/**
 * Writes a few rows as one INSERT … ON CONFLICT with bound values. Into a table known to exist, outside
 * replace mode, that single statement is the whole transaction, shared with the concurrent small writes
 * of the same shape (see InsertBatcher); otherwise it runs inside begin/commit after the table is
 * created or emptied, on the writer's own connection (`connect`).
 */
export async function writeSmall(
  state: PgPoolState,
  connect: () => Promise<pg.PoolClient>,
  spec: DestinationSpec,
  rows: Row[],
  signal: AbortSignal | undefined,
): Promise<number> {
  const table = requireTable(spec);
  const columns = writeColumns(spec, rows);
  const names = columns.map((c) => c.name);
  const keys = spec.mode === 'upsert' ? upsertKeys(spec, columns) : [];
  const values = keys.length > 0 ? lastPerKey(rows, keys) : rows;
  const params = values.flatMap((r) => names.map((n) => pgParam(r[n])));
  const shape = state.smallWrites.of(table, names, keys);
  const known = state.knownTables;
  try {
    if (known.has(table) && spec.mode !== 'replace') {
      if (shape.sharable) return await state.inserts.write(shape, params, signal);
      const client = await connect();
      return (await client.query(statement(shape, values.length, params))).rowCount ?? 0;
    }
    const client = await connect();
    await client.query('begin');
    await prepareTarget(client, spec, columns, false);
    const res = await client.query(statement(shape, values.length, params));
    await client.query('commit');
    known.add(table);
    return res.rowCount ?? 0;
  } catch (e) {
    // The table may have been dropped (or recreated with other types) behind our back: ask the catalog
    // next time, and prepare the statement afresh under a new name.
    known.delete(table);
    state.smallWrites.forget(shape);
    throw e;
  }
}

function statement(shape: SmallWriteShape, rows: number, values: unknown[]): pg.QueryConfig {
  const query: pg.QueryConfig = { text: shape.sql(rows), values };
  const name = shape.name(rows);
  if (name !== undefined) query.name = name;
  return query;
}
