import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { App } from '../server/app-types.js';
import type { ListenerHandler } from './listener-handler.js';

export const LISTENER_PREFIXES = ['/plugins/schedules/rest/v1/httplistener', '/rest/v1/httplistener'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The listener endpoints, in their own encapsulated scope: no JSON-only body parsing here; the body is
 * left unread for the handler, which streams it through the listener's format. The routes are `public`
 * to the server-wide access check because each listener decides its own authentication (token, Basic
 * or none) and role; the handler enforces both, on one code path.
 */
export async function listenerEndpoints(app: App, handler: ListenerHandler): Promise<void> {
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    for (const prefix of LISTENER_PREFIXES) {
      scope.route({
        method: [...METHODS],
        url: `${prefix}/*`,
        config: { access: 'public' },
        schema: {
          tags: ['listeners'],
          summary: 'Call a listener',
          description:
            'Runs the flow of the listener whose path matches. POST/PUT/PATCH: the body (JSON, NDJSON, CSV or XML) is ' +
            'the flow’s source; GET: the flow’s rows are the answer. Path {parameters} and query parameters become ' +
            'flow parameters. The credential may also come as an `Authorization` query parameter. Async listeners ' +
            'answer 202 with {"status":"received","messageId":..,"runId":..}; send Idempotency-Key to make retries safe.',
          params: Type.Object({ '*': Type.String() }),
        },
        handler: (request, reply) => handler.handle(request, reply, request.params['*']),
      });
    }
  });
}
