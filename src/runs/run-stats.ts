import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../core/string-enum.js';
import type { Store } from '../store/database.js';
import type { RunQueue } from './queue/run-queue.js';

const Nullable = Type.Union([Type.Number(), Type.Null()]);
export const PercentilesSchema = Type.Object({
  count: Type.Integer(),
  p50: Nullable,
  p95: Nullable,
  p99: Nullable,
  max: Nullable,
});
export type Percentiles = Static<typeof PercentilesSchema>;

/** The queue and run counts of the whole cluster: the stats API's answer and the run metrics' source. */
export const RunStatsSchema = Type.Object(
  {
    transport: StringEnum(['embedded', 'bullmq']),
    queued: Type.Integer({ description: 'Queued runs ready to start' }),
    delayed: Type.Integer({ description: 'Queued runs waiting for a retry backoff' }),
    running: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    cancelled: Type.Integer(),
    runningByFlow: Type.Record(Type.String(), Type.Integer()),
    recent: Type.Object(
      {
        since: Type.String(),
        durationMs: PercentilesSchema,
        startLatencyMs: PercentilesSchema,
      },
      { description: 'Runs that finished within the window' },
    ),
    queue: Type.Record(Type.String(), Type.Integer(), { description: 'BullMQ job counts in cluster mode' }),
  },
  { $id: 'RunStats' },
);
export type RunStats = Static<typeof RunStatsSchema>;

/** Most recent finished runs looked at for percentiles. */
const SAMPLE = 10_000;

export function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    v.length === 0 ? null : (v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? null);
  return { count: v.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: v.at(-1) ?? null };
}

/**
 * Queue and run counts for the whole cluster, read from the metadata store (the truth for every
 * process), plus duration and enqueue-to-start percentiles of runs finished in the last `windowMinutes`.
 */
export async function runStats(store: Store, queue: RunQueue, windowMinutes = 60): Promise<RunStats> {
  const now = new Date().toISOString();
  const since = new Date(Date.now() - windowMinutes * 60_000).toISOString();
  const db = store.db;
  const [byStatus, delayed, byFlow, recent, transport] = await Promise.all([
    db
      .selectFrom('runs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute(),
    db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'queued')
      .where('not_before', '>', now)
      .executeTakeFirst(),
    db
      .selectFrom('runs')
      .select(['flow', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'running')
      .groupBy('flow')
      .execute(),
    db
      .selectFrom('runs')
      .select(['duration_ms', 'created_at', 'started_at'])
      .where('finished_at', '>=', since)
      .where('parent_id', 'is', null)
      .orderBy('finished_at', 'desc')
      .limit(SAMPLE)
      .execute(),
    queue.transportStats(),
  ]);
  const count = (s: string) => Number(byStatus.find((r) => r.status === s)?.n ?? 0);
  const delayedN = Number(delayed?.n ?? 0);
  const durations: number[] = [];
  const latencies: number[] = [];
  for (const r of recent) {
    if (r.duration_ms !== null) durations.push(Number(r.duration_ms));
    if (r.started_at) latencies.push(Math.max(0, Date.parse(r.started_at) - Date.parse(r.created_at)));
  }
  return {
    transport: queue.transport,
    queued: count('queued') - delayedN,
    delayed: delayedN,
    running: count('running'),
    succeeded: count('succeeded'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    runningByFlow: Object.fromEntries(byFlow.map((r) => [r.flow, Number(r.n)])),
    recent: { since, durationMs: percentiles(durations), startLatencyMs: percentiles(latencies) },
    queue: transport,
  };
}
