import type { Context } from '../context.js';
import { flowsModule } from '../flows/flows-module.js';
import { listenersModule } from '../listeners/listeners-module.js';
import { notificationsModule } from '../notifications/notifications-module.js';
import { schedulerModule } from '../scheduler/scheduler-module.js';
import type { RouteModule } from './app.js';

/**
 * A feature plugged into the server: optional start-up work (demo objects, workers), routes, and
 * shutdown. The list is explicit so the order of start-up is visible in one place.
 */
export interface FeatureModule {
  name: string;
  init?(ctx: Context): Promise<void>;
  routes?: RouteModule;
  stop?(): Promise<void>;
}

export function featureModules(): FeatureModule[] {
  // Listeners first: their init sets the run hooks (payload I/O, resuming interrupted payloads) that
  // the run queue uses from its first tick.
  return [listenersModule(), flowsModule(), schedulerModule(), notificationsModule()];
}
