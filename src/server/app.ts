import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { auditRoutes } from '../audit/audit-routes.js';
import { apiKeyRoutes } from '../auth/api-key-routes.js';
import { tokenRoutes } from '../auth/token-routes.js';
import type { Context } from '../context.js';
import { AppError } from '../core/errors.js';
import { userRoutes } from '../users/user-routes.js';
import { installAccessControl } from './access.js';
import type { App } from './app-types.js';
import { consoleRoutes } from './console-routes.js';
import { sendError, toAppError } from './http-errors.js';
import { capConnections, httpLimitOptions, installJsonBodyParser } from './http-limits.js';
import { compileSchemasOnFirstUse } from './lazy-schemas.js';
import { installObservability } from './observability.js';
import { ErrorResponse } from './schemas.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A feature's routes: registered by buildApp in a fixed order. */
export type RouteModule = (app: App, ctx: Context) => void | Promise<void>;

/**
 * Builds the HTTP application without listening, so tests drive it with `inject()` and the CLI decides
 * where to listen. Feature modules add their routes through `modules`.
 */
export async function buildApp(ctx: Context, modules: RouteModule[] = []): Promise<App> {
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: ctx.settings.bodyLimit,
    trustProxy: ctx.settings.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    ...httpLimitOptions(ctx.settings),
  }).withTypeProvider<TypeBoxTypeProvider>();
  capConnections(app, ctx.settings);
  compileSchemasOnFirstUse(
    app,
    { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false, strict: false } },
    { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, strict: false } },
  );

  // The REST API speaks JSON only; listener routes install their own parsers for raw payloads.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Integrator API',
        version: '1',
        description:
          'Run flows, push and pull data through HTTP listeners, manage users, and read the audit trail. ' +
          'Authenticate with POST /rest/v1/token-auth/issue and send `Authorization: Bearer <token>`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token or an API key' } },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addHook('onRoute', (route) => {
    // The docs UI and its assets are public like the document they show.
    if (route.url.startsWith('/docs')) route.config = { ...route.config, access: 'public' };
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });

  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((err, request, reply) => {
    const appError = toAppError(err, ctx.settings.debug);
    if (appError.status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, request, appError);
  });
  installAccessControl(app, ctx);
  const consoleFallback = consoleRoutes(app);
  app.setNotFoundHandler((request, reply) => {
    if (consoleFallback(request, reply)) return reply;
    return sendError(
      reply,
      request,
      new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
    );
  });

  installObservability(app, ctx);
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  tokenRoutes(app, ctx);
  userRoutes(app, ctx);
  apiKeyRoutes(app, ctx);
  auditRoutes(app, ctx);
  for (const mod of modules) await mod(app, ctx);
  await app.ready();
  return app;
}
