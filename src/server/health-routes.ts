import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { Context } from '../context.js';
import type { App } from './app-types.js';

const Status = Type.Object({ status: Type.String(), store: Type.Optional(Type.String()) });

export function healthRoutes(app: App, ctx: Context): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: Status } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the metadata store answers',
        response: { 200: Status, 503: Status },
      },
    },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(ctx.store.db);
        return { status: 'ready', store: ctx.store.dialect };
      } catch {
        return reply.code(503).send({ status: 'unavailable', store: ctx.store.dialect });
      }
    },
  );
}
