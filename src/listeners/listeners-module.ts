import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/feature-module.js';
import { ListenerHandler } from './listener-handler.js';
import { listenerEndpoints } from './listener-routes.js';
import type { PayloadQueue } from './payload-queue.js';
import { payloadRoutes } from './payload-routes.js';

/**
 * HTTP listeners: their definitions API, the endpoints that call them, and the upkeep of async payloads
 * (the waiting count and the removal of payloads after retention). The payloads themselves are stored
 * with their queued run and handed to it by the run service (see createContext).
 */
export function listenersModule(): FeatureModule {
  let started: PayloadQueue | undefined;
  return {
    name: 'listeners',
    async init(ctx) {
      started = ctx.listeners.queue;
      started.start();
    },
    async routes(app, ctx) {
      const { router, payloads, queue } = ctx.listeners;
      definitionRoutes(app, ctx, ctx.definitions.kind('listener'));
      payloadRoutes(app, router, payloads, queue);
      await listenerEndpoints(app, new ListenerHandler(ctx, router, payloads, queue));
    },
    async stop() {
      started?.stop();
    },
  };
}
