import type { Context } from '../context.js';
import type { FeatureModule } from '../server/feature-module.js';
import { eventsRoutes } from './events-routes.js';
import type { RunQueue } from './queue/run-queue.js';
import type { RunRecovery } from './queue/run-recovery.js';
import { runRoutes } from './run-routes.js';
import { runStatsRoutes } from './run-stats-routes.js';
import { RunSchema } from './run-types.js';

/**
 * Runs: their API and stats, crash recovery, and the queue's workers. Every role queues runs and
 * recovers interrupted ones; roles `all` and `worker` also execute them.
 */
export function runsModule(): FeatureModule {
  let started: { queue: RunQueue; recovery: RunRecovery } | undefined;
  return {
    name: 'runs',
    async init(ctx: Context) {
      started = { queue: ctx.runQueue, recovery: ctx.recovery };
      await ctx.recovery.start(!ctx.store.shared);
      if (ctx.settings.role !== 'api') await ctx.runQueue.startWorkers(ctx.runs);
    },
    routes(app, ctx) {
      app.addSchema(RunSchema);
      runStatsRoutes(app, ctx, ctx.runQueue);
      runRoutes(app, ctx);
      eventsRoutes(app, ctx);
    },
    async stop() {
      started?.recovery.stop();
      await started?.queue.stop();
    },
  };
}
