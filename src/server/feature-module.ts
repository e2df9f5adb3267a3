import type { Context } from '../context.js';
import type { RouteModule } from './app.js';

/**
 * A feature plugged into the server: optional start-up work (demo objects, workers, timers), routes,
 * and shutdown. Everything a feature starts is built by the composition root (createContext), so
 * features start in any order and none of them sets anything on the context.
 */
export interface FeatureModule {
  name: string;
  init?(ctx: Context): Promise<void>;
  routes?: RouteModule;
  stop?(): Promise<void>;
}
