import type { Kysely, Transaction } from 'kysely';
import type { LogLine, RawParams, StepStats } from '../flows/engine-types.js';
import type { Store } from '../store/database.js';
import type { Database, RunsTable } from '../store/schema.js';
import type { BoundSql, GuardedUpdate, UnitOfWork } from '../store/unit-of-work.js';
import type { Run, RunCursor, RunFilter, RunStatus, RunTrigger } from './run-types.js';

function parseJson<T>(text: string | null, fallback: T): T {
  if (!text) return fallback;
  return JSON.parse(text) as T;
}

export function toRun(r: RunsTable): Run {
  return {
    id: r.id,
    flow: r.flow,
    trigger: r.trigger as RunTrigger,
    status: r.status as RunStatus,
    params: parseJson<RawParams>(r.params, {}),
    requestedBy: r.requested_by,
    parentId: r.parent_id,
    attempt: Number(r.attempt),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    rowsRead: Number(r.rows_read),
    rowsWritten: Number(r.rows_written),
    error: r.error,
    errorCode: r.error_code ?? null,
    steps: parseJson<StepStats[]>(r.steps, []),
    log: parseJson<LogLine[]>(r.log, []),
    schedule: r.schedule ?? null,
    lane: r.lane ?? null,
    notBefore: r.not_before ?? null,
  };
}

/** Every column of a run's row but its heartbeat (a run inserted as ended or queued has none). */
const RUN_COLUMNS = [
  'id',
  'flow',
  'trigger',
  'status',
  'params',
  'requested_by',
  'parent_id',
  'attempt',
  'created_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'rows_read',
  'rows_written',
  'error',
  'error_code',
  'steps',
  'log',
  'worker',
  'schedule',
  'lane',
  'not_before',
] as const satisfies readonly (keyof RunsTable)[];

/** Bound values per run in the statement that writes the ends of stored runs. */
const END_WIDTH = 12;

/** Run records in the metadata store. */
export class RunStore {
  constructor(private readonly store: Store) {
    this.ends = {
      write: (trx, runs) => this.writeEnds(trx, runs),
      statement: store.supportsOneStatementGroupCommit ? this.endStatement : undefined,
      width: END_WIDTH,
    };
  }

  async insert(run: Run, worker: string | null = null): Promise<void> {
    const heartbeat = run.status === 'running' ? new Date().toISOString() : null;
    await this.store.db
      .insertInto('runs')
      .values({ ...this.toRow(run, worker), heartbeat_at: heartbeat })
      .execute();
  }

  /**
   * The ends of stored runs, written for a whole group at once: what a run's end changes, guarded like
   * `save` (still running or cancelled, and still the attempt this process executed).
   */
  private readonly ends: GuardedUpdate<Run>;

  /**
   * Adds a run's final record to a unit of work: the one insert of a run never stored, or the guarded
   * update of the stored one.
   */
  addEnd(work: UnitOfWork, run: Run, stored: boolean): UnitOfWork {
    return stored ? work.update(this.ends, run) : this.addInsert(work, run);
  }

  /** Adds the insert of a run no worker holds (ended, or queued) to a unit of work. */
  addInsert(work: UnitOfWork, run: Run): UnitOfWork {
    return work.insert('runs', RUN_COLUMNS, this.toRow(run, null));
  }

  /** The ends of stored runs inside a caller's transaction, each a guarded update (see `save`). */
  private async writeEnds(trx: Transaction<Database>, runs: Run[]): Promise<void> {
    for (const run of runs) await this.save(run, ['running', 'cancelled'], run.attempt, trx);
  }

  /**
   * The ends of stored runs as one UPDATE … FROM (VALUES …), placeholders after `offset`; it runs alone
   * or as a part of the audit trail's one-statement commit.
   */
  private readonly endStatement = (runs: Run[], offset: number): BoundSql => {
    const values: unknown[] = [];
    const tuples = runs.map((run) => {
      const row = [
        run.id,
        run.attempt,
        run.status,
        run.startedAt,
        run.finishedAt,
        run.durationMs,
        run.rowsRead,
        run.rowsWritten,
        run.error,
        run.errorCode ?? null,
        JSON.stringify(run.steps),
        JSON.stringify(run.log),
      ];
      const marks = row.map((v) => {
        values.push(v);
        return this.store.placeholder(offset + values.length);
      });
      return `(${marks.join(', ')})`;
    });
    // Bound values in a VALUES list arrive as text: the integer columns are cast back.
    return {
      text:
        'update runs as r set status = v.status, started_at = v.started_at, finished_at = v.finished_at, ' +
        'duration_ms = v.duration_ms::integer, rows_read = v.rows_read::integer, ' +
        'rows_written = v.rows_written::integer, error = v.error, error_code = v.error_code, steps = v.steps, ' +
        'log = v.log ' +
        `from (values ${tuples.join(', ')}) as v(id, attempt, status, started_at, finished_at, duration_ms, ` +
        'rows_read, rows_written, error, error_code, steps, log) ' +
        "where r.id = v.id and r.attempt = v.attempt::integer and r.status in ('running', 'cancelled')",
      values,
    };
  };

  /**
   * Proves the runs executing in this process are alive and returns the ids still marked running: a run
   * missing from the answer was cancelled (or failed over) by another process.
   */
  async heartbeat(ids: string[], worker: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.store.db
      .updateTable('runs')
      .set({ heartbeat_at: new Date().toISOString() })
      .where('id', 'in', ids)
      .where('status', '=', 'running')
      // A synchronous run has no worker; a queued one is ours only while no other worker took it over.
      .where((eb) => eb.or([eb('worker', '=', worker), eb('worker', 'is', null)]))
      .returning('id')
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Writes the whole record; `expect` guards against overwriting a status another process set, and
   * `attempt` (the attempt this process executed) against overwriting a later attempt of the run that
   * crash recovery handed to another worker.
   */
  async save(
    run: Run,
    expect?: RunStatus[],
    attempt?: number,
    db: Kysely<Database> = this.store.db,
  ): Promise<boolean> {
    const { id, ...values } = this.toRow(run, undefined);
    let q = db.updateTable('runs').set(values).where('id', '=', id);
    if (expect) q = q.where('status', 'in', expect);
    if (attempt !== undefined) q = q.where('attempt', '=', attempt);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async setStatus(
    id: string,
    status: RunStatus,
    from: RunStatus[],
    extra: Partial<RunsTable> = {},
  ): Promise<boolean> {
    const res = await this.store.db
      .updateTable('runs')
      .set({ status, ...extra })
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async get(id: string): Promise<Run | undefined> {
    const r = await this.store.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRun(r) : undefined;
  }

  /** Runs newest first; with a cursor, only those after it (the next page). */
  async list(f: RunFilter, cursor?: RunCursor): Promise<Run[]> {
    let q = this.store.db.selectFrom('runs').selectAll();
    if (cursor) {
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', cursor.createdAt),
          eb.and([eb('created_at', '=', cursor.createdAt), eb('id', '<', cursor.id)]),
        ]),
      );
    }
    if (f.flow) q = q.where('flow', '=', f.flow);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.trigger) q = q.where('trigger', '=', f.trigger);
    if (f.parent) q = q.where('parent_id', '=', f.parent);
    if (f.from) q = q.where('created_at', '>=', f.from);
    if (f.to) q = q.where('created_at', '<', f.to);
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(f.limit ?? 100, 1000))
      .execute();
    return rows.map(toRun);
  }

  /** The newest run of each of these flows (a flow that never ran has none). */
  async latestOf(flows: string[]): Promise<Run[]> {
    const rows = await Promise.all(
      flows.map((flow) =>
        this.store.db
          .selectFrom('runs')
          .selectAll()
          .where('flow', '=', flow)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst(),
      ),
    );
    return rows.flatMap((r) => (r ? [toRun(r)] : []));
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.store.db
      .selectFrom('runs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** The row of a run; `worker` undefined leaves the column out (an update keeps what is there). */
  private toRow(run: Run, worker: string | null | undefined): RunsTable {
    const row: RunsTable = {
      id: run.id,
      flow: run.flow,
      trigger: run.trigger,
      status: run.status,
      params: JSON.stringify(run.params),
      requested_by: run.requestedBy,
      parent_id: run.parentId,
      attempt: run.attempt,
      created_at: run.createdAt,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      duration_ms: run.durationMs,
      rows_read: run.rowsRead,
      rows_written: run.rowsWritten,
      error: run.error,
      error_code: run.errorCode ?? null,
      steps: JSON.stringify(run.steps),
      log: JSON.stringify(run.log),
      worker: worker ?? null,
      schedule: run.schedule ?? null,
      lane: run.lane ?? null,
      not_before: run.notBefore ?? null,
    };
    if (worker === undefined) {
      const { worker: _w, ...rest } = row;
      return rest as RunsTable;
    }
    return row;
  }
}
