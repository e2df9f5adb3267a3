import { type Static, Type } from '@sinclair/typebox';
import { RoleSchema } from '../auth/roles.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import { DEFAULT_LISTENER_AUTH } from './auth/builtin-listener-auth.js';
import type { ListenerAuthRegistry } from './auth/listener-auth-registry.js';

export const LISTENER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type ListenerMethod = (typeof LISTENER_METHODS)[number];

/**
 * The listener definition: one schema for the REST API, YAML files, docs and the endpoint's types.
 * A listener is an HTTP endpoint at a user-defined path that runs a flow: the request body is the
 * flow's `@request` source, and rows the flow writes to `@response` are the response.
 * Format names and auth strategies are the registries': one added to them is accepted here, in the
 * OpenAPI document and in the docs.
 */
export function listenerSchema(extensions: { formats: FormatRegistry; listenerAuth: ListenerAuthRegistry }) {
  const FormatName = extensions.formats.nameSchema();

  const ListenerResponse = Type.Object(
    {
      status: Type.Optional(
        Type.Integer({
          minimum: 200,
          maximum: 299,
          description: 'Status of a success (default 200; 202 async)',
        }),
      ),
      body: Type.Optional(
        Type.Unknown({
          description:
            'JSON template. Strings may hold {runId}, {status}, {rowsRead}, {rowsWritten}, {messageId}, {durationMs} or ' +
            'any {parameter}; a string that is exactly one placeholder takes the value with its type.',
        }),
      ),
      single: Type.Optional(
        Type.Boolean({ description: 'Answer the first @response row as one object instead of an array' }),
      ),
      notFoundStatus: Type.Optional(
        Type.Integer({
          minimum: 200,
          maximum: 599,
          description: 'Status when single and no row (default 404)',
        }),
      ),
      format: Type.Optional(FormatName),
    },
    { additionalProperties: false },
  );

  return Type.Object(
    {
      path: Type.String({
        minLength: 1,
        maxLength: 500,
        description: 'Path after /httplistener/, with {param} segments, e.g. patients/{patientid}',
      }),
      methods: Type.Array(Type.Union(LISTENER_METHODS.map((m) => Type.Literal(m))), {
        minItems: 1,
        uniqueItems: true,
        default: ['POST'],
      }),
      flow: Type.String({ minLength: 1, description: 'The flow each call runs' }),
      mode: Type.Union([Type.Literal('sync'), Type.Literal('async')], {
        default: 'sync',
        description:
          'sync: the caller waits for the run; async: the payload is stored and queued, 202 at once',
      }),
      auth: extensions.listenerAuth.nameSchema(DEFAULT_LISTENER_AUTH),
      authOptions: Type.Optional(
        Type.Record(Type.String(), Type.Unknown(), {
          description: "Settings of the listener's auth strategy, checked against that strategy's schema",
        }),
      ),
      role: Type.Optional({ ...RoleSchema, description: 'Lowest role that may call (default api)' }),
      formats: Type.Optional(
        Type.Array(FormatName, {
          minItems: 1,
          uniqueItems: true,
          description:
            'Accepted body formats (default all); the first is assumed when no Content-Type is sent',
        }),
      ),
      formatOptions: Type.Optional(
        Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()), {
          description: 'Reader options per format, e.g. {"xml": {"recordPath": "patients/patient"}}',
        }),
      ),
      response: Type.Optional(ListenerResponse),
      error: Type.Optional(
        Type.Object(
          {
            status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
            body: Type.Optional(Type.Unknown({ description: 'JSON template; also knows {error}' })),
          },
          { additionalProperties: false, description: 'The answer when the flow fails (default 500)' },
        ),
      ),
      maxBodySize: Type.Integer({ minimum: 1, default: 16 * 1024 * 1024, description: 'Bytes' }),
      cors: Type.Optional(
        Type.Object(
          { origins: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
          {
            additionalProperties: false,
            description: 'Origins allowed to call from a browser ("*" for any)',
          },
        ),
      ),
      queueLimit: Type.Integer({
        minimum: 1,
        default: 10_000,
        description: 'Async: answer 429 while this many listener runs wait in the queue',
      }),
      retainPayloadDays: Type.Integer({
        minimum: 0,
        default: 0,
        description: 'Async: days to keep raw payloads after their run finished (0: delete at once)',
      }),
      description: Type.Optional(Type.String({ maxLength: 2000 })),
    },
    { additionalProperties: false },
  );
}

export type ListenerSpec = Static<ReturnType<typeof listenerSchema>>;
export type ListenerResponse = NonNullable<ListenerSpec['response']>;
