import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { errorMessage } from '../core/errors.js';
import { actorOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });

/** Connection actions beyond CRUD: test it, and discover its tables and columns. */
export function connectionRoutes(app: App, ctx: Context): void {
  app.post(
    '/rest/v1/connections/:name/test',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['connections'],
        summary: 'Test a connection: can Integrator reach it with these settings?',
        params: NameParams,
        response: {
          200: Type.Object({ ok: Type.Boolean(), message: Type.String(), durationMs: Type.Integer() }),
          ...authErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const started = performance.now();
      const actor = actorOf(request);
      let ok = true;
      let message = 'Connection works';
      try {
        const connector = await ctx.connectors.get(request.params.name);
        await connector.check();
      } catch (err) {
        if (err instanceof Error && 'code' in err && err.code === 'NOT_FOUND') throw err;
        ok = false;
        message = errorMessage(err);
      }
      const durationMs = Math.round(performance.now() - started);
      await ctx.audit.record({
        action: 'connection.tested',
        outcome: ok ? 'success' : 'failure',
        actor: actor.name,
        target: request.params.name,
        clientIp: actor.clientIp,
        durationMs,
        details: ok ? null : { error: message },
      });
      return { ok, message, durationMs };
    },
  );

  app.get(
    '/rest/v1/connections/:name/tables',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['connections'],
        summary: 'Tables (or files) of a connection with their columns',
        params: NameParams,
        response: {
          200: Type.Array(
            Type.Object({
              schema: Type.Optional(Type.String()),
              name: Type.String(),
              columns: Type.Array(
                Type.Object({
                  name: Type.String(),
                  type: Type.String(),
                  nullable: Type.Optional(Type.Boolean()),
                  precision: Type.Optional(Type.Integer({ description: 'decimal: total digits' })),
                  scale: Type.Optional(Type.Integer({ description: 'decimal: fraction digits' })),
                }),
              ),
            }),
          ),
          ...authErrors,
          ...errorResponses(404, 502),
        },
      },
    },
    async (request) => {
      const connector = await ctx.connectors.get(request.params.name);
      return connector.discover();
    },
  );
}
