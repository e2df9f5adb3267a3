import type { Transaction } from 'kysely';
import type { Store } from '../../store/database.js';
import type { Database } from '../../store/schema.js';
import { toRun } from '../run-store.js';
import type { Run } from '../run-types.js';

/** What a worker needs to know about a queued run before it tries to claim it. */
export interface Candidate {
  id: string;
  flow: string;
  lane: string | null;
  status: string;
  notBefore: string | null;
}

/** The outcome of a claim: the run is now ours, another worker took it, or a limit holds it back. */
export type ClaimResult = { claimed: Run } | { lost: true } | { busy: 'flow' | 'lane' };

/**
 * Claims queued runs in the metadata store. The store is the single source of truth for a run's
 * status, whatever carries the wake-ups (the in-process poller or BullMQ): a run moves from `queued` to
 * `running` in one guarded update, so exactly one worker executes it even if it is offered twice.
 *
 * Limits (a flow's `concurrency`, a schedule's lane) are checked and the run claimed in one transaction
 * that holds a lock per flow and per lane: a PostgreSQL advisory lock across processes, the single
 * connection of SQLite within the one process that owns the file.
 */
export class RunClaims {
  constructor(private readonly store: Store) {}

  async candidate(id: string): Promise<Candidate | undefined> {
    const r = await this.store.db
      .selectFrom('runs')
      .select(['id', 'flow', 'lane', 'status', 'not_before'])
      .where('id', '=', id)
      .executeTakeFirst();
    return r
      ? { id: r.id, flow: r.flow, lane: r.lane ?? null, status: r.status, notBefore: r.not_before ?? null }
      : undefined;
  }

  /** The oldest queued runs that may start now, for the embedded poller. */
  async ready(limit: number, excludeFlows: string[] = []): Promise<Candidate[]> {
    const now = new Date().toISOString();
    let q = this.store.db
      .selectFrom('runs')
      .select(['id', 'flow', 'lane', 'status', 'not_before'])
      .where('status', '=', 'queued')
      .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<=', now)]));
    if (excludeFlows.length > 0) q = q.where('flow', 'not in', excludeFlows);
    const rows = await q.orderBy('created_at').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      flow: r.flow,
      lane: r.lane ?? null,
      status: r.status,
      notBefore: r.not_before ?? null,
    }));
  }

  /**
   * Moves the run to `running` for `worker` unless another worker got there first, or the flow already
   * runs `flowLimit` runs, or the run's lane is busy.
   */
  async claim(c: Candidate, worker: string, flowLimit: number | undefined): Promise<ClaimResult> {
    if (flowLimit === undefined && !c.lane) return this.take(this.store.db, c.id, worker);
    return this.store.db.transaction().execute(async (trx) => {
      if (flowLimit !== undefined) {
        await this.lock(trx, `flow:${c.flow}`);
        if ((await this.countRunning(trx, 'flow', c.flow)) >= flowLimit) return { busy: 'flow' };
      }
      if (c.lane) {
        await this.lock(trx, `lane:${c.lane}`);
        if ((await this.countRunning(trx, 'lane', c.lane)) > 0) return { busy: 'lane' };
      }
      return this.take(trx, c.id, worker);
    });
  }

  /**
   * Claims several queued runs without limits in one guarded update; returns those that were still
   * queued (another worker may have taken some), oldest first.
   */
  async takeMany(
    ids: string[],
    worker: string,
    db: Transaction<Database> | Store['db'] = this.store.db,
  ): Promise<Run[]> {
    if (ids.length === 0) return [];
    const now = new Date().toISOString();
    const rows = await db
      .updateTable('runs')
      .set({ status: 'running', started_at: now, heartbeat_at: now, worker })
      .where('id', 'in', ids)
      .where('status', '=', 'queued')
      .returningAll()
      .execute();
    return rows
      .map(toRun)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  private async take(
    db: Transaction<Database> | Store['db'],
    id: string,
    worker: string,
  ): Promise<ClaimResult> {
    const [claimed] = await this.takeMany([id], worker, db);
    return claimed ? { claimed } : { lost: true };
  }

  private async lock(trx: Transaction<Database>, key: string): Promise<void> {
    // Flow locks are always taken before lane locks, so two claimers never wait on each other in a cycle.
    await this.store.lock(trx, key);
  }

  private async countRunning(
    trx: Transaction<Database>,
    column: 'flow' | 'lane',
    value: string,
  ): Promise<number> {
    const r = await trx
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(column, '=', value)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Queued runs older than `ageMs` that may start now: the BullMQ reconciler re-offers them. */
  async stuckQueued(ageMs: number, limit: number): Promise<Run[]> {
    const now = new Date();
    const rows = await this.store.db
      .selectFrom('runs')
      .selectAll()
      .where('status', '=', 'queued')
      .where('created_at', '<', new Date(now.getTime() - ageMs).toISOString())
      .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<=', now.toISOString())]))
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }
}
