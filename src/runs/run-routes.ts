import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { AppError } from '../core/errors.js';
import type { RawParams } from '../flows/engine-types.js';
import { actorOf, principalOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';
import { type Run, RunFilterSchema } from './run-types.js';

const SeedResult = Type.Object(
  {
    status: Type.Integer({ description: '0 success, 1 failure' }),
    exception: Type.Optional(Type.String({ description: 'Why the run failed' })),
    runId: Type.Optional(Type.String()),
    rowsRead: Type.Optional(Type.Integer()),
    rowsWritten: Type.Optional(Type.Integer()),
    durationMs: Type.Optional(Type.Integer()),
  },
  { description: 'The outcome of a synchronous run' },
);

/** Query keys the run endpoint reads itself; everything else is a flow parameter. */
const CONTROL_KEYS = new Set(['async', 'Authorization', 'authorization']);

function paramsFrom(query: unknown): { params: RawParams; async: boolean } {
  const params: RawParams = {};
  let async = false;
  if (typeof query === 'object' && query !== null) {
    for (const [k, v] of Object.entries(query)) {
      if (k === 'async') async = v === 'true' || v === '1' || v === true;
      if (CONTROL_KEYS.has(k)) continue;
      if (Array.isArray(v))
        throw new AppError('PARAMETER_INVALID', `parameter '${k}' is given more than once`);
      if (typeof v === 'string') params[k] = v;
    }
  }
  return { params, async };
}

export function seedResult(run: Run): {
  status: number;
  exception?: string;
  runId: string;
  rowsRead: number;
  rowsWritten: number;
  durationMs: number;
} {
  const base = {
    runId: run.id,
    rowsRead: run.rowsRead,
    rowsWritten: run.rowsWritten,
    durationMs: run.durationMs ?? 0,
  };
  return run.status === 'succeeded'
    ? { status: 0, ...base }
    : { status: 1, exception: run.error ?? run.status, ...base };
}

export function runRoutes(app: App, ctx: Context): void {
  for (const prefix of ['/plugins/flows/rest/v1', '/rest/v1']) {
    app.post(
      `${prefix}/flows/flow-name/:flowName/run`,
      {
        config: { access: 'operator' },
        schema: {
          tags: ['runs'],
          summary: 'Run a flow by name',
          description:
            'Query parameters become the flow’s parameters ({name} in the flow). Waits for the run and answers ' +
            '{"status":0} on success or {"status":1,"exception":"…"} on failure (both 200). With ?async=true answers ' +
            '202 at once with the run id. A trailing slash is accepted.',
          params: Type.Object({ flowName: Type.String({ minLength: 1, maxLength: 128 }) }),
          querystring: Type.Object({ async: Type.Optional(Type.String()) }, { additionalProperties: true }),
          response: {
            200: SeedResult,
            202: Type.Object({ runId: Type.String(), runStatus: Type.String(), href: Type.String() }),
            404: SeedResult,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const parsed = paramsFrom(request.query);
        const req = {
          flow: request.params.flowName,
          params: parsed.params,
          trigger: 'api' as const,
          requestedBy: principalOf(request).login,
          clientIp: request.ip,
        };
        try {
          if (parsed.async) {
            const run = await ctx.runs.enqueue(req);
            return reply
              .code(202)
              .send({ runId: run.id, runStatus: run.status, href: `/rest/v1/runs/${run.id}` });
          }
          return reply.code(200).send(seedResult(await ctx.runs.runSync(req)));
        } catch (err) {
          if (err instanceof AppError && err.code === 'NOT_FOUND') {
            return reply.code(404).send({ status: 1, exception: err.message });
          }
          throw err;
        }
      },
    );
  }

  app.get(
    '/rest/v1/runs',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'List runs, newest first',
        querystring: RunFilterSchema,
        response: { 200: Type.Array(Type.Ref('Run')), ...authErrors },
      },
    },
    async (request) => ctx.runs.list(request.query),
  );

  app.get(
    '/rest/v1/runs/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['runs'],
        summary: 'One run with per-step row counts, timings and log lines',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Type.Ref('Run'), ...authErrors, ...errorResponses(404) },
      },
    },
    async (request) => ctx.runs.get(request.params.id),
  );

  app.post(
    '/rest/v1/runs/:id/cancel',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['runs'],
        summary: 'Cancel a queued or running run (statements are cancelled and writes rolled back)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 202: Type.Ref('Run'), ...authErrors, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const run = await ctx.runs.get(request.params.id);
      const cancelled = await ctx.runs.cancel(request.params.id);
      await ctx.audit.record({
        action: 'flow.run.cancelled',
        outcome: 'success',
        actor: actor.name,
        target: run.flow,
        clientIp: actor.clientIp,
        details: { runId: run.id },
      });
      return reply.code(202).send(cancelled);
    },
  );
}
