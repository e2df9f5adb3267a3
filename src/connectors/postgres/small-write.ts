/**
 * The small-write path: a write of a few rows (a listener call, a trickle) is one INSERT … ON CONFLICT
 * with bound values instead of a COPY. Into a table known to exist, outside replace mode, that statement
 * is the whole transaction, shared with concurrent small writes of the same shape (see InsertBatcher).
 */
import type pg from 'pg';
import { Decimal } from '../../core/decimal.js';
import { fieldOf, type Row } from '../../core/records.js';
import { stringifyJson } from '../../formats/json-exact.js';
import { requireTable, upsertKeys, writeColumns } from '../columns.js';
import { COMMITS_TABLE, type CommitMark } from '../commit-ledger.js';
import type { DestinationSpec } from '../connector.js';
import type { PgPoolState } from './pool-state.js';
import { ensurePgKeys, ensurePgLedger, recordPgCommit, recordPgKeys } from './postgres-ledger.js';
import { prepareTarget } from './postgres-target.js';
import type { SmallWriteShape } from './small-write-shapes.js';

/** A write of at most this many rows (in all) is one INSERT with bound values instead of a COPY. */
export function smallLimit(columnCount: number): number {
  // PostgreSQL takes at most 65535 bind parameters per statement.
  return Math.max(1, Math.min(500, Math.floor(60_000 / Math.max(columnCount, 1))));
}

/** A bound value as node-postgres sends it, converted the way the COPY path converts it. */
function pgParam(v: unknown): unknown {
  if (v === undefined) return null;
  // node-postgres would print a Date in the host's time zone to the millisecond.
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  // node-postgres prints -0 as 0.
  if (v === 0 && Object.is(v, -0)) return '-0';
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof Decimal) return v.digits;
  return stringifyJson(v);
}

/** For upsert: one row per key, the last one winning, as the staging merge does. */
function lastPerKey(rows: readonly Row[], keys: readonly string[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const r of rows) byKey.set(stringifyJson(keys.map((k) => fieldOf(r, k) ?? null)), r);
  return [...byKey.values()];
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
  const params = values.flatMap((r) => names.map((n) => pgParam(fieldOf(r, n))));
  const shape = state.smallWrites.of(table, names, keys);
  const known = state.knownTables;
  try {
    // Message keys are recorded in the rows' transaction: that takes begin/commit of its own.
    if (known.has(table) && spec.mode !== 'replace' && !spec.dedupe) {
      if (spec.commit) {
        // The rows and the run's commit record (see commit-ledger.ts) in one statement of their own.
        const client = await connect();
        await ensurePgLedger(client, state.ledger);
        const prune = state.ledger.prune();
        if (prune) await client.query(prune.text, prune.values);
        return await insertRecorded(client, shape.sql(values.length), params, spec.commit);
      }
      if (shape.sharable) return await state.inserts.write(shape, params, signal);
      const client = await connect();
      return (await client.query(statement(shape, values.length, params))).rowCount ?? 0;
    }
    const client = await connect();
    if (spec.commit) await ensurePgLedger(client, state.ledger);
    if (spec.dedupe) await ensurePgKeys(client, state.keyLedger);
    await client.query('begin');
    await prepareTarget(client, spec, columns, false);
    const res = await client.query(statement(shape, values.length, params));
    if (spec.commit) await recordPgCommit(client, state.ledger, spec.commit, res.rowCount ?? 0);
    if (spec.dedupe) await recordPgKeys(client, state.keyLedger, spec.dedupe);
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

/** One INSERT and the ledger record of the rows it wrote, atomic as one statement. */
async function insertRecorded(
  client: pg.PoolClient,
  insert: string,
  params: unknown[],
  mark: CommitMark,
): Promise<number> {
  const n = params.length;
  const text =
    `with w as (${insert} returning 1), c as (insert into ${COMMITS_TABLE} ` +
    `(run_id, step, attempt, rows_written, committed_at) select $${n + 1}, $${n + 2}, $${n + 3}, count(*), $${n + 4} from w) ` +
    'select count(*)::int as n from w';
  const res = await client.query<{ n: number }>(text, [
    ...params,
    mark.runId,
    mark.step,
    mark.attempt,
    new Date().toISOString(),
  ]);
  return res.rows[0]?.n ?? 0;
}

function statement(shape: SmallWriteShape, rows: number, values: unknown[]): pg.QueryConfig {
  const query: pg.QueryConfig = { text: shape.sql(rows), values };
  const name = shape.name(rows);
  if (name !== undefined) query.name = name;
  return query;
}
