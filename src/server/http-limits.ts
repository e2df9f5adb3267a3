import type { ServerOptions } from 'node:http';
import type { Settings } from '../config.js';
import { AppError } from '../core/errors.js';
import { nestsTooDeep, tooDeepMessage } from '../core/nesting.js';
import type { App } from './app-types.js';

/**
 * The HTTP server's limits on slow and idle clients, as Fastify options: a client that trickles its
 * headers or body holds a descriptor until these cut it off. Node checks the header and request
 * deadlines on a timer; it runs at least once a second so a short timeout is kept to the second.
 */
export function httpLimitOptions(settings: Settings): {
  keepAliveTimeout: number;
  requestTimeout: number;
  http: ServerOptions;
} {
  const headersTimeout = settings.headersTimeoutSeconds * 1000;
  return {
    keepAliveTimeout: settings.keepAliveTimeoutSeconds * 1000,
    requestTimeout: settings.requestTimeoutSeconds * 1000,
    http: { headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
  };
}

/** Connections above the cap are closed as they arrive, so a flood cannot exhaust descriptors. */
export function capConnections(app: App, settings: Settings): void {
  app.server.maxConnections = settings.maxConnections;
}

/**
 * The REST API's JSON body parser: Fastify's own (which refuses `__proto__` and `constructor.prototype`
 * keys), plus a nesting limit, so a document nested thousands deep is the caller's 400 and never
 * reaches the recursive validators and serializers behind it.
 */
export function installJsonBodyParser(app: App): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, typeof body === 'string' ? body : body.toString('utf8'), (err, value) => {
      if (err) done(err, undefined);
      else if (nestsTooDeep(value)) {
        done(new AppError('BAD_REQUEST', `Request body: ${tooDeepMessage('the JSON document')}`), undefined);
      } else done(null, value);
    });
  });
}
