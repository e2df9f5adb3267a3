import { flowsModule } from '../flows/flows-module.js';
import { listenersModule } from '../listeners/listeners-module.js';
import { notificationsModule } from '../notifications/notifications-module.js';
import { runsModule } from '../runs/runs-module.js';
import { schedulerModule } from '../scheduler/scheduler-module.js';
import { subscriptionsModule } from '../subscriptions/subscriptions-module.js';
import type { FeatureModule } from './feature-module.js';

/** Every feature of the server. They start in any order; routes are registered in this one. */
export function featureModules(): FeatureModule[] {
  return [
    flowsModule(),
    runsModule(),
    listenersModule(),
    subscriptionsModule(),
    schedulerModule(),
    notificationsModule(),
  ];
}
