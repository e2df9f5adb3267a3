import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { principalOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { errorResponses } from '../server/schemas.js';
import { parseCredentials } from './credentials-body.js';

const Credentials = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { description: 'A user login and password' },
);

export function tokenRoutes(app: App, ctx: Context): void {
  // Its own scope: the body is recognised by its content, whatever Content-Type says (if anything).
  void app.register(async (scope) => issueRoute(scope, ctx));
  app.post(
    '/rest/v1/token-auth/renew',
    {
      config: { access: 'api' },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a token that has not expired for a fresh one',
        description:
          'Answers a new token valid for INTEGRATOR_TOKEN_TTL seconds, for the same user, so a client keeps its ' +
          'session without keeping the password. An expired token gets 401 (log in again); an API key 400.',
        response: {
          200: Type.Object({ token: Type.String(), expiresIn: Type.Integer({ description: 'seconds' }) }),
          ...errorResponses(400, 401, 403, 500),
        },
      },
    },
    async (request) => ctx.auth.renew(principalOf(request), request.ip),
  );
}

const BODY_LIMIT = 16 * 1024;

function issueRoute(app: App, ctx: Context): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (_request: unknown, body: Buffer | string) =>
      parseCredentials(typeof body === 'string' ? Buffer.from(body) : body, ctx.extensions.formats),
  );
  app.post(
    '/rest/v1/token-auth/issue',
    {
      config: { access: 'public' },
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['auth'],
        summary: 'Issue a short-lived bearer token',
        description:
          'Exchanges a login and password for a signed token that expires after INTEGRATOR_TOKEN_TTL seconds ' +
          '(600 by default). Wrong login or password: 401. Disabled user: 403. Repeated failures: 429. ' +
          'The body is recognised by its content: JSON, XML, CSV (a header line and one record) or a form, ' +
          'with any Content-Type or none.',
        security: [],
        body: Credentials,
        response: {
          200: Type.Object({ token: Type.String(), expiresIn: Type.Integer({ description: 'seconds' }) }),
          ...errorResponses(400, 401, 403, 413, 429, 500),
        },
      },
    },
    async (request) => ctx.auth.login(request.body.login, request.body.password, request.ip),
  );
}
