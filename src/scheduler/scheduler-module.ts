import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/feature-module.js';
import { scheduleKind } from './schedule-kind.js';
import { scheduleRoutes } from './schedule-routes.js';
import type { Scheduler } from './scheduler.js';

/**
 * Schedules: their definitions and routes everywhere the API runs, and the scheduler in processes with
 * role `all` or `api` (unless INTEGRATOR_SCHEDULER=false). Several schedulers are safe: each tick is
 * claimed in the store once.
 */
export function schedulerModule(): FeatureModule {
  let started: Scheduler | undefined;
  return {
    name: 'scheduler',
    async init(ctx) {
      if (ctx.settings.role === 'worker' || !ctx.settings.scheduler) return;
      started = ctx.schedules.scheduler;
      await started.start();
    },
    routes(app, ctx) {
      definitionRoutes(app, ctx, scheduleKind);
      scheduleRoutes(app, ctx, ctx.schedules.fires);
    },
    async stop() {
      started?.stop();
    },
  };
}
