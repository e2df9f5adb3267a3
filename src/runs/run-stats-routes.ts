import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import type { App } from '../server/app-types.js';
import { authErrors } from '../server/schemas.js';
import type { RunQueue } from './queue/run-queue.js';
import { RunStatsSchema, runStats } from './run-stats.js';

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
