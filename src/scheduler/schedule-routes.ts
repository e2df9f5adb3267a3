import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';
import { compileCron, nextTimes } from './cron.js';
import type { ScheduleFires } from './schedule-fires.js';
import { scheduleKind } from './schedule-kind.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });

/** Read-only views of a schedule beyond its definition: upcoming fire times and fired ticks. */
export function scheduleRoutes(app: App, ctx: Context, fires: ScheduleFires): void {
  app.get(
    '/rest/v1/schedules/:name/next',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['schedules'],
        summary: 'The next fire times of a schedule, in UTC (empty when it is disabled)',
        params: NameParams,
        querystring: Type.Object({
          count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 5 })),
        }),
        response: {
          200: Type.Object({
            name: Type.String(),
            cron: Type.String(),
            timezone: Type.String(),
            enabled: Type.Boolean(),
            next: Type.Array(Type.String()),
          }),
          ...authErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const d = await ctx.definitions.get('schedule', request.params.name);
      const spec = await scheduleKind.validate(d.spec, d.name);
      const timezone = spec.timezone ?? 'UTC';
      const enabled = spec.enabled !== false;
      const times = enabled
        ? nextTimes(compileCron(spec.cron, timezone), new Date(), request.query.count ?? 5)
        : [];
      return { name: d.name, cron: spec.cron, timezone, enabled, next: times.map((t) => t.toISOString()) };
    },
  );
  app.get(
    '/rest/v1/schedules/:name/fires',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['schedules'],
        summary: 'Ticks the schedule fired, newest first, with what came of each (queued, skipped, failed)',
        params: NameParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Array(
            Type.Object({
              tick: Type.String(),
              firedAt: Type.String(),
              outcome: Type.String(),
              runId: Type.Union([Type.String(), Type.Null()]),
              error: Type.Union([Type.String(), Type.Null()]),
            }),
          ),
          ...authErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      await ctx.definitions.get('schedule', request.params.name);
      const rows = await fires.list(request.params.name, request.query.limit ?? 100);
      return rows.map((r) => ({
        tick: r.fire_time,
        firedAt: r.fired_at,
        outcome: r.outcome,
        runId: r.run_id,
        error: r.error,
      }));
    },
  );
}
