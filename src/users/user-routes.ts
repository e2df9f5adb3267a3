import { Type } from '@sinclair/typebox';
import { RoleSchema } from '../auth/roles.js';
import type { Context } from '../context.js';
import { actorOf, principalOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';

const UserSchema = Type.Object({
  id: Type.String(),
  login: Type.String(),
  role: RoleSchema,
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const LoginParams = Type.Object({ login: Type.String({ minLength: 1, maxLength: 64 }) });
const Password = Type.String({ minLength: 8, maxLength: 1024 });

export function userRoutes(app: App, ctx: Context): void {
  const tags = ['users'];
  app.get(
    '/rest/v1/users',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'List users', response: { 200: Type.Array(UserSchema), ...authErrors } },
    },
    async () => ctx.users.list(),
  );

  app.post(
    '/rest/v1/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Create a user',
        body: Type.Object(
          { login: Type.String({ minLength: 1, maxLength: 64 }), password: Password, role: RoleSchema },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, ...authErrors, ...errorResponses(409, 413) },
      },
    },
    async (request, reply) => {
      const user = await ctx.users.create(request.body, actorOf(request));
      return reply.code(201).send(user);
    },
  );

  app.get(
    '/rest/v1/users/:login',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Get a user',
        params: LoginParams,
        response: { 200: UserSchema, ...authErrors, ...errorResponses(404) },
      },
    },
    async (request) => ctx.users.get(request.params.login),
  );

  app.patch(
    '/rest/v1/users/:login',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Change a user’s role, or disable / enable it',
        params: LoginParams,
        body: Type.Object(
          { role: Type.Optional(RoleSchema), disabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserSchema, ...authErrors, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const user = await ctx.users.update(request.params.login, request.body, actorOf(request));
      ctx.auth.invalidate(user.id);
      return user;
    },
  );

  app.put(
    '/rest/v1/users/:login/password',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Reset a user’s password',
        params: LoginParams,
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...authErrors, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      await ctx.users.setPassword(request.params.login, request.body.password, actorOf(request));
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/rest/v1/users/:login',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Delete a user and its API keys',
        params: LoginParams,
        response: { 204: Type.Null(), ...authErrors, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const user = await ctx.users.get(request.params.login);
      await ctx.users.delete(request.params.login, actorOf(request));
      ctx.auth.invalidate(user.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/rest/v1/me',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'The calling user',
        response: {
          200: Type.Object({ login: Type.String(), role: RoleSchema, via: Type.String() }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { login: p.login, role: p.role, via: p.via };
    },
  );
}
