import { type Static, Type } from '@sinclair/typebox';
import { RoleSchema } from '../auth/roles.js';

/**
 * The listener definition: one schema for the REST API, YAML files, docs and the endpoint's types.
 * A listener is an HTTP endpoint at a user-defined path that runs a flow: the request body is the
 * flow's `@request` source, and rows the flow writes to `@response` are the response.
 */
export const LISTENER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type ListenerMethod = (typeof LISTENER_METHODS)[number];

const FormatName = Type.Union([
  Type.Literal('json'),
  Type.Literal('ndjson'),
  Type.Literal('csv'),
  Type.Literal('xml'),
]);

export const ListenerResponse = Type.Object(
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
export type ListenerResponse = Static<typeof ListenerResponse>;

export const ListenerSpec = Type.Object(
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
      description: 'sync: the caller waits for the run; async: the payload is stored and queued, 202 at once',
    }),
    auth: Type.Union([Type.Literal('token'), Type.Literal('basic'), Type.Literal('none')], {
      default: 'token',
      description: 'token: bearer token or API key; basic: HTTP Basic login and password; none: anyone',
    }),
    role: Type.Optional({ ...RoleSchema, description: 'Lowest role that may call (default api)' }),
    formats: Type.Optional(
      Type.Array(FormatName, {
        minItems: 1,
        uniqueItems: true,
        description: 'Accepted body formats (default all); the first is assumed when no Content-Type is sent',
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
        { additionalProperties: false, description: 'Origins allowed to call from a browser ("*" for any)' },
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
export type ListenerSpec = Static<typeof ListenerSpec>;
