import type { Context } from '../context.js';
import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/modules.js';
import { ListenerHandler } from './listener-handler.js';
import { ListenerRouter } from './listener-router.js';
import { listenerEndpoints } from './listener-routes.js';
import { PayloadQueue } from './payload-queue.js';
import { payloadRoutes } from './payload-routes.js';
import { PayloadStore } from './payload-store.js';

/**
 * HTTP listeners: their definitions API, the endpoints that call them, and the durable intake of async
 * payloads (stored with their queued run, resumed after a crash, removed after retention).
 */
export function listenersModule(): FeatureModule {
  let parts: { router: ListenerRouter; payloads: PayloadStore; queue: PayloadQueue } | undefined;
  const setUp = (ctx: Context) => {
    if (parts) return parts;
    const router = new ListenerRouter(ctx.definitions, ctx.logger);
    const queue = new PayloadQueue(ctx.store, router, ctx.logger);
    const payloads = new PayloadStore(ctx.store, ctx.runs, ctx.audit);
    ctx.runs.ioProvider = (run) => queue.io(run);
    // An accepted payload stays stored until its run finishes, so an interrupted run can safely run again.
    ctx.runs.recoveryPolicy = (run) => (run.trigger === 'listener' ? 'retry' : undefined);
    parts = { router, payloads, queue };
    return parts;
  };
  return {
    name: 'listeners',
    async init(ctx) {
      setUp(ctx).queue.start();
    },
    async routes(app, ctx) {
      const { router, payloads, queue } = setUp(ctx);
      definitionRoutes(app, ctx, ctx.definitions.kind('listener'));
      payloadRoutes(app, router, payloads, queue);
      await listenerEndpoints(app, new ListenerHandler(ctx, router, payloads, queue));
    },
    async stop() {
      parts?.queue.stop();
    },
  };
}
