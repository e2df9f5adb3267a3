/**
 * What the store knows of subscriptions beyond their definitions: which are paused (every process of a
 * cluster reads it, so a pause stops the subscription everywhere) and each consuming process's last
 * report of its state and counters.
 */
import type { Store } from '../store/database.js';

export interface WorkerReport {
  worker: string;
  state: string;
  consumed: number;
  acked: number;
  failed: number;
  deadLettered: number;
  lastError: string | null;
  lastErrorAt: string | null;
  startedAt: string;
  updatedAt: string;
}

/** A report older than this is of a process that stopped or died: status leaves it out. */
export const REPORT_STALE_MS = 30_000;

export class SubscriptionStates {
  constructor(private readonly store: Store) {}

  async paused(): Promise<Set<string>> {
    const rows = await this.store.db
      .selectFrom('subscription_states')
      .select('name')
      .where('paused', '=', 1)
      .execute();
    return new Set(rows.map((r) => r.name));
  }

  async isPaused(name: string): Promise<{ paused: boolean; by: string | null; at: string | null }> {
    const row = await this.store.db
      .selectFrom('subscription_states')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return { paused: row?.paused === 1, by: row?.changed_by ?? null, at: row?.changed_at ?? null };
  }

  /** Sets the pause flag; answers whether it changed. */
  async setPaused(name: string, paused: boolean, by: string): Promise<boolean> {
    const before = await this.isPaused(name);
    if (before.paused === paused) return false;
    const row = { name, paused: paused ? 1 : 0, changed_by: by, changed_at: new Date().toISOString() };
    await this.store.db
      .insertInto('subscription_states')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ paused: row.paused, changed_by: by, changed_at: row.changed_at }),
      )
      .execute();
    return true;
  }

  async report(name: string, r: WorkerReport): Promise<void> {
    const row = {
      name,
      worker: r.worker,
      state: r.state,
      consumed: r.consumed,
      acked: r.acked,
      failed: r.failed,
      dead_lettered: r.deadLettered,
      last_error: r.lastError,
      last_error_at: r.lastErrorAt,
      started_at: r.startedAt,
      updated_at: r.updatedAt,
    };
    const { name: _n, worker: _w, ...changes } = row;
    await this.store.db
      .insertInto('subscription_workers')
      .values(row)
      .onConflict((oc) => oc.columns(['name', 'worker']).doUpdateSet(changes))
      .execute();
  }

  /** The recent reports of every process consuming the subscription. */
  async reports(name: string): Promise<WorkerReport[]> {
    const since = new Date(Date.now() - REPORT_STALE_MS).toISOString();
    const rows = await this.store.db
      .selectFrom('subscription_workers')
      .selectAll()
      .where('name', '=', name)
      .where('updated_at', '>=', since)
      .orderBy('worker')
      .execute();
    return rows.map((r) => ({
      worker: r.worker,
      state: r.state,
      consumed: Number(r.consumed),
      acked: Number(r.acked),
      failed: Number(r.failed),
      deadLettered: Number(r.dead_lettered),
      lastError: r.last_error,
      lastErrorAt: r.last_error_at,
      startedAt: r.started_at,
      updatedAt: r.updated_at,
    }));
  }

  /** Forgets a deleted subscription's state and reports. */
  async forget(name: string): Promise<void> {
    await this.store.db.deleteFrom('subscription_states').where('name', '=', name).execute();
    await this.store.db.deleteFrom('subscription_workers').where('name', '=', name).execute();
  }
}
