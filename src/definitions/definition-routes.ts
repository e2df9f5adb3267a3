import { type TSchema, Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { actorOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';
import type { DefinitionKind } from './definition-kind.js';
import type { Definition, DefinitionService } from './definition-service.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });

function view(d: Definition, kind: DefinitionKind): Record<string, unknown> {
  return {
    name: d.name,
    ...d.spec,
    ...kind.present?.(d.spec),
    version: d.version,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    updatedBy: d.updatedBy,
  };
}

function splitBody(body: unknown): { name: unknown; spec: Record<string, unknown> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { name: undefined, spec: {} };
  const {
    name,
    version: _v,
    createdAt: _c,
    updatedAt: _u,
    updatedBy: _b,
    ...spec
  } = body as Record<string, unknown>;
  return { name, spec };
}

/**
 * CRUD routes for one definition kind under /rest/v1/<plural>. Bodies are the definition's fields plus
 * `name`; the service validates them (with field paths) so the schema here documents rather than gates.
 */
export function definitionRoutes(
  app: App,
  ctx: Context & { definitions: DefinitionService },
  kind: DefinitionKind,
): void {
  const base = `/rest/v1/${kind.plural}`;
  const tags = [kind.plural];
  const readRole = kind.readRole ?? 'viewer';
  const Body: TSchema = Type.Intersect([Type.Object({ name: Type.String() }), kind.schema]);
  // Responses are described loosely: the request body documents the fields, and a strict serializer
  // schema would have to mirror every connector's union of settings.
  const Item: TSchema = Type.Object(
    {
      name: Type.String(),
      version: Type.Integer(),
      createdAt: Type.String(),
      updatedAt: Type.String(),
      updatedBy: Type.Union([Type.String(), Type.Null()]),
    },
    {
      additionalProperties: true,
      description: `The ${kind.kind}: its fields as in the request body, plus these`,
    },
  );
  // Validation happens in the service; the route only documents the body.
  const docsOnly = { attachValidation: true } as const;

  app.get(
    base,
    {
      config: { access: readRole },
      schema: { tags, summary: `List ${kind.plural}`, response: { 200: Type.Array(Item), ...authErrors } },
    },
    async () => (await ctx.definitions.list(kind.kind)).map((d) => view(d, kind)),
  );
  app.get(
    `${base}/:name`,
    {
      config: { access: readRole },
      schema: {
        tags,
        summary: `Get a ${kind.kind}${kind.secretFields ? ' (secrets masked)' : ''}`,
        params: NameParams,
        response: { 200: Item, ...authErrors, ...errorResponses(404) },
      },
    },
    async (request) => view(await ctx.definitions.get(kind.kind, request.params.name), kind),
  );
  app.post(
    base,
    {
      config: { access: 'editor' },
      ...docsOnly,
      schema: {
        tags,
        summary: `Create a ${kind.kind}`,
        body: Body,
        response: { 201: Item, ...authErrors, ...errorResponses(409, 413, 422) },
      },
    },
    async (request, reply) => {
      const { name, spec } = splitBody(request.body);
      const d = await ctx.definitions.create(
        kind.kind,
        typeof name === 'string' ? name : '',
        spec,
        actorOf(request),
      );
      return reply.code(201).send(view(d, kind));
    },
  );
  app.put(
    `${base}/:name`,
    {
      config: { access: 'editor' },
      ...docsOnly,
      schema: {
        tags,
        summary: `Create or replace a ${kind.kind}`,
        params: NameParams,
        body: kind.schema,
        response: { 200: Item, 201: Item, ...authErrors, ...errorResponses(409, 413, 422) },
      },
    },
    async (request, reply) => {
      const { spec } = splitBody(request.body);
      const d = await ctx.definitions.put(kind.kind, request.params.name, spec, actorOf(request));
      return reply.code(d.created ? 201 : 200).send(view(d, kind));
    },
  );
  const VersionParams = Type.Object({
    name: NameParams.properties.name,
    version: Type.Integer({ minimum: 1 }),
  });
  const VersionItem = Type.Object({
    version: Type.Integer(),
    savedAt: Type.String(),
    savedBy: Type.Union([Type.String(), Type.Null()]),
  });
  app.get(
    `${base}/:name/versions`,
    {
      config: { access: readRole },
      schema: {
        tags,
        summary: `The saved versions of a ${kind.kind}, newest first (kept after it is deleted)`,
        params: NameParams,
        response: { 200: Type.Array(VersionItem), ...authErrors, ...errorResponses(404) },
      },
    },
    async (request) => ctx.definitions.versions(kind.kind, request.params.name),
  );
  app.get(
    `${base}/:name/versions/:version`,
    {
      config: { access: readRole },
      schema: {
        tags,
        summary: `One saved version of a ${kind.kind}, secrets masked`,
        params: VersionParams,
        response: {
          200: Type.Intersect([
            VersionItem,
            Type.Object({ spec: Type.Object({}, { additionalProperties: true }) }),
          ]),
          ...authErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request) => ctx.definitions.version(kind.kind, request.params.name, request.params.version),
  );
  app.get(
    `${base}/:name/diff`,
    {
      config: { access: readRole },
      schema: {
        tags,
        summary: `What changed between two saved versions of a ${kind.kind}`,
        description:
          'One change per JSON Pointer path (`op` add, remove or replace, with the values before and after); a secret shows only that it changed.',
        params: NameParams,
        querystring: Type.Object({ from: Type.Integer({ minimum: 1 }), to: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Type.Object({
            from: Type.Integer(),
            to: Type.Integer(),
            changes: Type.Array(
              Type.Object({
                op: Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('replace')]),
                path: Type.String(),
                from: Type.Optional(Type.Unknown()),
                to: Type.Optional(Type.Unknown()),
              }),
            ),
          }),
          ...authErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      return { from, to, changes: await ctx.definitions.diff(kind.kind, request.params.name, from, to) };
    },
  );
  app.post(
    `${base}/:name/versions/:version/revert`,
    {
      config: { access: 'editor' },
      schema: {
        tags,
        summary: `Save an older version of a ${kind.kind} again, as its newest version (audited)`,
        description:
          'Checked like any save: the version must still be valid and its references must exist. A deleted definition is made again.',
        params: VersionParams,
        response: { 200: Item, 201: Item, ...authErrors, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const d = await ctx.definitions.revert(
        kind.kind,
        request.params.name,
        request.params.version,
        actorOf(request),
      );
      return reply.code(d.created ? 201 : 200).send(view(d, kind));
    },
  );
  app.delete(
    `${base}/:name`,
    {
      config: { access: 'editor' },
      schema: {
        tags,
        summary: `Delete a ${kind.kind}`,
        params: NameParams,
        response: { 204: Type.Null(), ...authErrors, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      await ctx.definitions.delete(kind.kind, request.params.name, actorOf(request));
      return reply.code(204).send(null);
    },
  );
}
