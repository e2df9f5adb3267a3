import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import type { App } from '../server/app-types.js';
import { authErrors } from '../server/schemas.js';
import { MAX_AUDIT_EVENTS } from './audit-log.js';

const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  hash: Type.String(),
});

const AuditFilter = Type.Object({
  action: Type.Optional(Type.String({ description: 'e.g. login.failed' })),
  user: Type.Optional(Type.String({ description: 'The actor’s login' })),
  outcome: Type.Optional(
    Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
  ),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUDIT_EVENTS, default: MAX_AUDIT_EVENTS })),
});

export function auditRoutes(app: App, ctx: Context): void {
  for (const url of ['/plugins/audit/rest/v1/audit', '/rest/v1/audit']) {
    app.get(
      url,
      {
        config: { access: 'admin' },
        schema: {
          tags: ['audit'],
          summary: 'The newest audit events, newest first (at most 1000)',
          querystring: AuditFilter,
          response: {
            200: Type.Object({ events: Type.Array(AuditEventSchema), count: Type.Integer() }),
            ...authErrors,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const events = await ctx.audit.query({
          action: q.action,
          actor: q.user,
          outcome: q.outcome,
          from: q.from === undefined ? undefined : new Date(q.from).toISOString(),
          to: q.to === undefined ? undefined : new Date(q.to).toISOString(),
          limit: q.limit,
        });
        return { events, count: events.length };
      },
    );
  }
  app.post(
    '/rest/v1/audit/verify',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain of the audit trail and check it is whole',
        description:
          'Reads every kept event (in pages) and checks each hash against its content and the one before, and that ' +
          'the chain reaches its stored head. `ok` false names the first broken event (`brokenAt`) and why. The check ' +
          'itself is audited as `audit.verified`.',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            checked: Type.Integer({ description: 'Events checked' }),
            brokenAt: Type.Optional(
              Type.Integer({ description: 'The id of the first event that does not fit' }),
            ),
            reason: Type.Optional(Type.String()),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const result = await ctx.audit.verify();
      await ctx.audit.record({
        action: 'audit.verified',
        outcome: result.ok ? 'success' : 'failure',
        actor: request.principal?.login ?? null,
        clientIp: request.ip,
        details: {
          checked: result.checked,
          ...(result.brokenAt === undefined ? {} : { brokenAt: result.brokenAt }),
        },
      });
      return result;
    },
  );
}
