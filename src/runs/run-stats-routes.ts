import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import type { App } from '../server/app-types.js';
import { authErrors } from '../server/schemas.js';
import type { RunQueue } from './queue/run-queue.js';
import { summary } from './run-events.js';
import { RunHoursSchema, runsPerHour } from './run-hourly.js';
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
  app.get(
    '/rest/v1/runs/hourly',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'Runs created in each recent hour, by status (oldest hour first, empty hours as zeros)',
        querystring: Type.Object({
          hours: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 168,
              default: 24,
              description: 'Hours back, this one included',
            }),
          ),
        }),
        response: { 200: RunHoursSchema, ...authErrors },
      },
    },
    async (request) => runsPerHour(ctx.store, request.query.hours ?? 24),
  );
  app.get(
    '/rest/v1/runs/latest',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'The newest run of each flow (or of the flows named), without parameters and log',
        description: 'A flow that never ran is left out. `flow` repeats or takes a comma-separated list.',
        querystring: Type.Object({
          flow: Type.Optional(Type.String({ description: 'Comma-separated flow names; default every flow' })),
        }),
        response: { 200: Type.Array(LatestRun), ...authErrors },
      },
    },
    async (request) => {
      const named = request.query.flow
        ?.split(',')
        .map((f) => f.trim())
        .filter((f) => f !== '');
      const flows = named ?? (await ctx.definitions.list('flow')).map((d) => d.name);
      return (await ctx.runs.latest(flows)).map((r) => summary(r));
    },
  );
}

const LatestRun = Type.Object(
  {
    id: Type.String(),
    flow: Type.String(),
    trigger: Type.String(),
    status: Type.String(),
    requestedBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    durationMs: Type.Union([Type.Integer(), Type.Null()]),
    rowsRead: Type.Integer(),
    rowsWritten: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);
