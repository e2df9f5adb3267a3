import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { actorOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const WorkerSchema = Type.Object({
  worker: Type.String({ description: 'The process (host:pid)' }),
  state: Type.String({ description: 'connecting, running, reconnecting or stopped' }),
  consumed: Type.Integer(),
  acked: Type.Integer(),
  failed: Type.Integer(),
  deadLettered: Type.Integer(),
  lastError: Nullable(Type.String()),
  lastErrorAt: Nullable(Type.String()),
  startedAt: Type.String(),
  updatedAt: Type.String(),
});

export const SubscriptionStatusSchema = Type.Object(
  {
    name: Type.String(),
    enabled: Type.Boolean(),
    paused: Type.Boolean(),
    pausedBy: Nullable(Type.String()),
    state: Type.String({
      description:
        'running, paused, disabled, connecting, reconnecting (no process reaches the broker), or idle (no process consumes it)',
    }),
    consumed: Type.Integer({
      description: 'Messages delivered, over the processes consuming it, since each started',
    }),
    acked: Type.Integer({ description: 'Messages acknowledged after their batch committed' }),
    failed: Type.Integer({ description: 'Failed attempts of messages (each given back or dead-lettered)' }),
    deadLettered: Type.Integer({ description: 'Messages sent to the dead-letter target' }),
    lastError: Nullable(Type.String()),
    lastErrorAt: Nullable(Type.String()),
    workers: Type.Array(WorkerSchema),
  },
  { $id: 'SubscriptionStatus' },
);

/** Status of a subscription over the cluster, and pause/resume (everywhere, until resumed). */
export function subscriptionRoutes(app: App, ctx: Context): void {
  const manager = ctx.subscriptions;
  app.get(
    '/rest/v1/subscriptions/:name/status',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['subscriptions'],
        summary: 'The state and counters of a subscription, over every process consuming it',
        params: NameParams,
        response: { 200: SubscriptionStatusSchema, ...authErrors, ...errorResponses(404) },
      },
    },
    async (request) => manager.status(request.params.name),
  );
  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(
      `/rest/v1/subscriptions/:name/${verb}`,
      {
        config: { access: 'operator' },
        schema: {
          tags: ['subscriptions'],
          summary: paused
            ? 'Stops consuming the subscription in every process (batches in flight are rolled back and redelivered later)'
            : 'Consumes a paused subscription again',
          params: NameParams,
          response: { 200: SubscriptionStatusSchema, ...authErrors, ...errorResponses(404) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        return manager.setPaused(request.params.name, paused, actor, actor.clientIp);
      },
    );
  }
}
