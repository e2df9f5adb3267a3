import type { Context } from '../context.js';
import { registerRunMetrics } from '../runs/run-metrics.js';
import { runStats } from '../runs/run-stats.js';
import type { App } from './app-types.js';
import { healthRoutes } from './health-routes.js';
import { createMetrics, installMetrics } from './metrics.js';

/** `/metrics` (HTTP and run metrics), `/healthz` and `/readyz`: the same on every app. */
export function installObservability(app: App, ctx: Context): void {
  const metrics = createMetrics();
  const off = registerRunMetrics(metrics.registry, ctx.runs, () => runStats(ctx.store, ctx.runQueue));
  app.addHook('onClose', async () => off());
  installMetrics(app, metrics);
  healthRoutes(app, ctx);
}
