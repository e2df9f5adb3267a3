import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Context } from '../context.js';
import type { App } from './app-types.js';
import { capConnections, httpLimitOptions } from './http-limits.js';
import { installObservability } from './observability.js';

/**
 * The HTTP side of a `--role worker` process: /healthz, /readyz and /metrics only, without auth, for
 * probes and Prometheus. The REST API, listeners and the console are served by api processes.
 */
export async function buildWorkerApp(ctx: Context): Promise<App> {
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    return503OnClosing: true,
    ...httpLimitOptions(ctx.settings),
  }).withTypeProvider<TypeBoxTypeProvider>();
  capConnections(app, ctx.settings);
  installObservability(app, ctx);
  await app.ready();
  return app;
}
