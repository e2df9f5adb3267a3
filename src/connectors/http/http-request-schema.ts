/**
 * What a transfer step says about its HTTP requests (`from.request`, `to.request`). One schema serves
 * flow validation, the OpenAPI document and the connector's types.
 */
import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../../core/string-enum.js';
import { HEADER_NAME } from './http-config.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const Path = Type.String({
  pattern: '^[^?#]*$',
  description:
    'Path relative to the connection baseUrl, with {name} placeholders (URL-encoded); put the query in `query`',
});
const Query = Type.Record(
  Type.String({ minLength: 1 }),
  Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
  {
    description:
      'Query parameters; values may hold {name} placeholders (a lone {name} whose value is null is left out)',
  },
);
const Headers = Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String(), {
  description: 'Headers of this request, with {name} placeholders',
});

export const PAGINATION_TYPES = ['none', 'page', 'offset', 'cursor', 'next-url', 'link-header'] as const;

export const HttpPaginationSchema = Type.Object(
  {
    type: StringEnum(PAGINATION_TYPES, { description: 'How the next page is asked for' }),
    param: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Query parameter of the page number (page), offset (offset) or cursor (cursor)',
      }),
    ),
    start: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'First page number (page, default 1) or offset (offset, default 0)',
      }),
    ),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'Records asked for per page' })),
    sizeParam: Type.Optional(
      Type.String({ minLength: 1, description: 'Query parameter of the page size (offset: default limit)' }),
    ),
    path: Type.Optional(
      Type.String({
        pattern: '^[^.]+(\\.[^.]+)*$',
        description: 'cursor, next-url: dot-separated keys of the cursor or next URL in the JSON body',
      }),
    ),
    maxPages: Type.Optional(Type.Integer({ minimum: 1, description: 'Stop after this many pages' })),
    stopOnEmptyPage: Type.Boolean({
      default: true,
      description: 'Stop at a page without records (page and offset always do)',
    }),
  },
  { additionalProperties: false },
);

export const HttpSourceRequestSchema = Type.Object(
  {
    method: StringEnum(METHODS, { default: 'GET' }),
    path: Type.Optional(Path),
    query: Type.Optional(Query),
    headers: Type.Optional(Headers),
    body: Type.Optional(
      Type.Unknown({ description: 'JSON body; a string that is exactly {name} becomes the value itself' }),
    ),
    records: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Where the records are in the answer: dot-separated keys for JSON (data.items), element names for XML (orders/order)',
      }),
    ),
    pagination: Type.Optional(HttpPaginationSchema),
  },
  { additionalProperties: false },
);
export type HttpSourceRequest = Static<typeof HttpSourceRequestSchema>;
export type HttpPagination = Static<typeof HttpPaginationSchema>;

export const HttpTargetRequestSchema = Type.Object(
  {
    method: StringEnum(METHODS, { default: 'POST' }),
    path: Type.Optional(Path),
    query: Type.Optional(Query),
    headers: Type.Optional(Headers),
    send: StringEnum(['record', 'batch'], {
      default: 'batch',
      description: 'One request per record (body: the record) or per batch (body: the records)',
    }),
    batchSize: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 100,
      description: 'Records per batch request',
    }),
    idempotencyKey: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Template of the idempotency header, e.g. {run_id}-{record}',
      }),
    ),
    idempotencyHeader: Type.String({ pattern: HEADER_NAME, default: 'Idempotency-Key' }),
    success: Type.Optional(
      Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
        minItems: 1,
        description: 'Statuses that mean the API took the request (default: any 2xx)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type HttpTargetRequest = Static<typeof HttpTargetRequestSchema>;
