import { type Static, Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import { RUN_STATUSES, type RunStatus } from './run-types.js';

export const RunHourSchema = Type.Object({
  hour: Type.String({ description: 'The start of the hour, UTC (ISO 8601)' }),
  ...Object.fromEntries(
    RUN_STATUSES.map((s) => [s, Type.Integer({ description: `Runs created then, now ${s}` })]),
  ),
});
export type RunHour = { hour: string } & Record<RunStatus, number>;
export const RunHoursSchema = Type.Array(RunHourSchema);
export type RunHours = Static<typeof RunHoursSchema>;

/**
 * Runs created in each of the last `hours` hours (the current one included), by their status now,
 * oldest hour first; an hour without runs is there with zeros. Run times are stored as ISO 8601 text in
 * UTC, so the hour is the text's first 13 characters on either store.
 */
export async function runsPerHour(store: Store, hours: number, now = new Date()): Promise<RunHour[]> {
  const current = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours());
  const first = current - (hours - 1) * 3_600_000;
  const since = new Date(first).toISOString();
  const rows = await store.db
    .selectFrom('runs')
    .select([
      sql<string>`substr(created_at, 1, 13)`.as('hour'),
      'status',
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .where('created_at', '>=', since)
    .groupBy([sql`substr(created_at, 1, 13)`, 'status'])
    .execute();
  const out: RunHour[] = [];
  const byHour = new Map<string, RunHour>();
  for (let t = first; t <= current; t += 3_600_000) {
    const iso = new Date(t).toISOString();
    const hour = {
      hour: `${iso.slice(0, 13)}:00:00.000Z`,
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    out.push(hour);
    byHour.set(iso.slice(0, 13), hour);
  }
  for (const r of rows) {
    const hour = byHour.get(r.hour);
    if (hour && (RUN_STATUSES as readonly string[]).includes(r.status))
      hour[r.status as RunStatus] += Number(r.n);
  }
  return out;
}
