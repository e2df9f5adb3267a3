import type { Context } from '../context.js';
import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/feature-module.js';
import { ScheduleFires } from './schedule-fires.js';
import { scheduleKind } from './schedule-kind.js';
import { scheduleRoutes } from './schedule-routes.js';
import { Scheduler } from './scheduler.js';

/**
 * Schedules: their definitions and routes everywhere the API runs, and the scheduler in processes with
 * role `all` or `api` (unless INTEGRATOR_SCHEDULER=false). Several schedulers are safe: each tick is
 * claimed in the store once.
 */
export function schedulerModule(): FeatureModule {
  let scheduler: Scheduler | undefined;
  let fires: ScheduleFires | undefined;
  return {
    name: 'scheduler',
    async init(ctx: Context) {
      fires = new ScheduleFires(ctx.store);
      if (ctx.settings.role === 'worker' || !ctx.settings.scheduler) return;
      scheduler = new Scheduler(ctx.definitions, fires, ctx.runs, ctx.audit, ctx.logger);
      await scheduler.start();
    },
    routes(app, ctx) {
      definitionRoutes(app, ctx, scheduleKind);
      scheduleRoutes(app, ctx, fires ?? new ScheduleFires(ctx.store));
    },
    async stop() {
      scheduler?.stop();
    },
  };
}
