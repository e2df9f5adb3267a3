import type { Store } from '../store/database.js';

export type FireOutcome = 'pending' | 'queued' | 'skipped' | 'failed';

/**
 * The ticks schedules have fired. Inserting a (schedule, fire time) row is how a scheduler claims a
 * tick: the primary key lets exactly one of any number of schedulers in the cluster win it.
 */
export class ScheduleFires {
  constructor(private readonly store: Store) {}

  /** Claims the tick; false when another scheduler already has. */
  async claim(schedule: string, fireTime: Date): Promise<boolean> {
    const res = await this.store.db
      .insertInto('schedule_fires')
      .values({
        schedule,
        fire_time: fireTime.toISOString(),
        fired_at: new Date().toISOString(),
        outcome: 'pending',
        run_id: null,
        error: null,
      })
      .onConflict((oc) => oc.columns(['schedule', 'fire_time']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async settle(
    schedule: string,
    fireTime: Date,
    outcome: FireOutcome,
    runId: string | null = null,
    error: string | null = null,
  ): Promise<void> {
    await this.store.db
      .updateTable('schedule_fires')
      .set({ outcome, run_id: runId, error })
      .where('schedule', '=', schedule)
      .where('fire_time', '=', fireTime.toISOString())
      .execute();
  }

  /** The latest tick fired for the schedule, if any. */
  async last(schedule: string): Promise<Date | undefined> {
    const r = await this.store.db
      .selectFrom('schedule_fires')
      .select((eb) => eb.fn.max('fire_time').as('t'))
      .where('schedule', '=', schedule)
      .executeTakeFirst();
    return r?.t ? new Date(r.t) : undefined;
  }

  async list(schedule: string, limit: number) {
    return this.store.db
      .selectFrom('schedule_fires')
      .selectAll()
      .where('schedule', '=', schedule)
      .orderBy('fire_time', 'desc')
      .limit(limit)
      .execute();
  }

  /** Whether a run the schedule fired is still queued or running (overlap `skip`). */
  async hasActiveRun(schedule: string): Promise<boolean> {
    const r = await this.store.db
      .selectFrom('runs')
      .select('id')
      .where('schedule', '=', schedule)
      .where('status', 'in', ['queued', 'running'])
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Forgets ticks older than `days` (the last one of each schedule stays: missed runs need it). */
  async prune(days: number): Promise<void> {
    const before = new Date(Date.now() - days * 86_400_000).toISOString();
    await this.store.db
      .deleteFrom('schedule_fires')
      .where('fired_at', '<', before)
      .where(({ eb, selectFrom, ref }) =>
        eb(
          'fire_time',
          '<',
          selectFrom('schedule_fires as f')
            .select((e) => e.fn.max('f.fire_time').as('m'))
            .whereRef('f.schedule', '=', ref('schedule_fires.schedule')),
        ),
      )
      .execute();
  }
}
