import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import type { App } from '../server/app-types.js';
import { authErrors } from '../server/schemas.js';
import type { RunQueue } from './queue/run-queue.js';
import { runStats } from './run-stats.js';

const Nullable = Type.Union([Type.Number(), Type.Null()]);
const PercentilesSchema = Type.Object({
  count: Type.Integer(),
  p50: Nullable,
  p95: Nullable,
  p99: Nullable,
  max: Nullable,
});

export const RunStatsSchema = Type.Object(
  {
    transport: Type.String({ description: 'embedded or bullmq' }),
    queued: Type.Integer({ description: 'Queued runs ready to start' }),
    delayed: Type.Integer({ description: 'Queued runs waiting for a retry backoff' }),
    running: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    cancelled: Type.Integer(),
    runningByFlow: Type.Record(Type.String(), Type.Integer()),
    recent: Type.Object({
      since: Type.String(),
      durationMs: PercentilesSchema,
      startLatencyMs: PercentilesSchema,
    }),
    queue: Type.Record(Type.String(), Type.Integer(), { description: 'BullMQ job counts in cluster mode' }),
  },
  { $id: 'RunStats' },
);

/** GET /rest/v1/runs/stats: the queue and run counts of the whole cluster. */
export function runStatsRoutes(app: App, ctx: Context, queue: RunQueue): void {
  app.get(
    '/rest/v1/runs/stats',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'Queue depth, running and finished counts, and recent durations and start latencies',
        querystring: Type.Object({
          window: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 10080, default: 60, description: 'Minutes of recent runs' }),
          ),
        }),
        response: { 200: RunStatsSchema, ...authErrors },
      },
    },
    async (request) => runStats(ctx.store, queue, request.query.window ?? 60),
  );
}
