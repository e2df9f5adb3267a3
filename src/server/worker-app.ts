import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Context } from '../context.js';
import { registerRunMetrics } from '../runs/run-metrics.js';
import { runStats } from '../runs/run-stats.js';
import type { App } from './app-types.js';
import { healthRoutes } from './health-routes.js';
import { createMetrics, installMetrics } from './metrics.js';

/**
 * The HTTP side of a `--role worker` process: /healthz, /readyz and /metrics only, without auth, for
 * probes and Prometheus. The REST API, listeners and the console are served by api processes.
 */
export async function buildWorkerApp(ctx: Context): Promise<App> {
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const metrics = createMetrics();
  const queue = ctx.runQueue;
  if (queue) {
    const off = registerRunMetrics(metrics.registry, ctx.runs, () => runStats(ctx.store, queue));
    app.addHook('onClose', async () => off());
  }
  installMetrics(app, metrics);
  healthRoutes(app, ctx);
  await app.ready();
  return app;
}
