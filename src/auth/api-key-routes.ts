import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { forbidden } from '../core/errors.js';
import { actorOf, principalOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';

const KeyInfo = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

/**
 * API keys: long-lived, revocable bearer credentials. Anyone (viewer or more) manages their own keys;
 * an admin also creates keys for other users (typically `api` users, who cannot call this API).
 */
export function apiKeyRoutes(app: App, ctx: Context): void {
  const tags = ['auth'];
  app.post(
    '/rest/v1/api-keys',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Create an API key (the key is shown only in this response)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            login: Type.Optional(Type.String({ description: 'Owner; admins only, defaults to the caller' })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ key: Type.String(), info: KeyInfo }),
          ...authErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      const login = request.body.login ?? me.login;
      if (login !== me.login && me.role !== 'admin')
        throw forbidden('Only an admin creates keys for other users');
      const owner = await ctx.users.get(login);
      return reply.code(201).send(await ctx.apiKeys.create(owner, request.body.name, actorOf(request)));
    },
  );

  app.get(
    '/rest/v1/api-keys',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'List API keys: your own, or everyone’s for an admin',
        response: { 200: Type.Array(KeyInfo), ...authErrors },
      },
    },
    async (request) => {
      const me = principalOf(request);
      return ctx.apiKeys.list(me.role === 'admin' ? undefined : me.userId);
    },
  );

  app.delete(
    '/rest/v1/api-keys/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), ...authErrors, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      const key = await ctx.apiKeys.get(request.params.id);
      if (key.userId !== me.userId && me.role !== 'admin')
        throw forbidden('You can revoke only your own keys');
      await ctx.apiKeys.revoke(key.id, actorOf(request));
      return reply.code(204).send(null);
    },
  );
}
