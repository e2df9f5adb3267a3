import { Type } from '@sinclair/typebox';
import { AppError } from '../core/errors.js';
import { actorOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';
import type { ListenerRouter } from './listener-router.js';
import type { PayloadQueue } from './payload-queue.js';
import type { PayloadStore } from './payload-store.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });

const KeptPayloadSchema = Type.Object({
  messageId: Type.String(),
  runId: Type.String(),
  idempotencyKey: Type.Union([Type.String(), Type.Null()]),
  format: Type.String(),
  bytes: Type.Integer(),
  receivedAt: Type.String(),
  runStatus: Type.Union([Type.String(), Type.Null()], { description: 'The status of its run' }),
});

const ReceiptSchema = Type.Object({
  status: Type.Literal('received'),
  messageId: Type.String(),
  runId: Type.String(),
  replayOf: Type.String(),
});

/**
 * Kept payloads of async listeners: list them, and replay one (accepted again as a new message with a
 * new queued run, with the parameters of the original call). Payloads are kept for the listener's
 * `retainPayloadDays` after their run finished.
 */
export function payloadRoutes(
  app: App,
  router: ListenerRouter,
  payloads: PayloadStore,
  queue: PayloadQueue,
): void {
  const listenerNamed = async (name: string) => {
    const found = (await router.all()).find((l) => l.name === name);
    if (!found) throw new AppError('NOT_FOUND', `Listener '${name}' does not exist`);
    return found;
  };

  app.get(
    '/rest/v1/listeners/:name/payloads',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['listeners'],
        summary: 'Payloads an async listener keeps, newest first (never their bodies)',
        params: Type.Object({ name: Name }),
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Array(KeptPayloadSchema), ...authErrors, ...errorResponses(404) },
      },
    },
    async (request) => {
      const listener = await listenerNamed(request.params.name);
      return payloads.list(listener.name, request.query.limit ?? 100);
    },
  );

  app.post(
    '/rest/v1/listeners/:name/payloads/:messageId/replay',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['listeners'],
        summary: 'Run a kept payload through its listener’s flow again, as a new message',
        params: Type.Object({ name: Name, messageId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 202: ReceiptSchema, ...authErrors, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { name, messageId } = request.params;
      const listener = await listenerNamed(name);
      const receipt = await payloads.replay(
        listener.name,
        messageId,
        listener.spec.flow,
        actor.name,
        (r) => ({
          action: 'listener.replayed',
          outcome: 'success',
          actor: actor.name,
          target: listener.name,
          clientIp: actor.clientIp,
          details: { replayOf: messageId, messageId: r.messageId, runId: r.runId },
        }),
      );
      queue.accepted();
      return reply.code(202).header('location', `/rest/v1/runs/${receipt.runId}`).send({
        status: 'received',
        messageId: receipt.messageId,
        runId: receipt.runId,
        replayOf: messageId,
      });
    },
  );
}
