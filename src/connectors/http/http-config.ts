/** Connection settings of an HTTP API: where it is, how to authenticate, and how hard to push it. */
import { type Static, Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.js';
import { StringEnum } from '../../core/string-enum.js';
import { validate } from '../../core/validate.js';

export const HTTP_AUTH_TYPES = ['none', 'basic', 'bearer', 'api-key', 'oauth2'] as const;
export type HttpAuthType = (typeof HTTP_AUTH_TYPES)[number];

/** A header name as RFC 9110 allows it (a token). */
export const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const HttpConfigSchema = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      description:
        'http:// or https:// URL every request path is relative to, e.g. https://api.example.com/v1',
    }),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String(), {
        description: 'Headers sent with every request. Not secret: put credentials in the auth settings.',
      }),
    ),
    auth: StringEnum(HTTP_AUTH_TYPES, { default: 'none', description: 'How requests authenticate' }),
    username: Type.Optional(Type.String({ description: 'basic: the user name' })),
    password: Type.Optional(Type.String({ writeOnly: true, description: 'basic: the password (secret)' })),
    token: Type.Optional(
      Type.String({ writeOnly: true, minLength: 1, description: 'bearer: the token (secret)' }),
    ),
    apiKey: Type.Optional(
      Type.String({ writeOnly: true, minLength: 1, description: 'api-key: the key (secret)' }),
    ),
    apiKeyName: Type.String({
      default: 'X-API-Key',
      minLength: 1,
      description: 'api-key: the header or query parameter that carries the key',
    }),
    apiKeyIn: StringEnum(['header', 'query'], {
      default: 'header',
      description: 'api-key: send the key in a header or in the query string',
    }),
    tokenUrl: Type.Optional(
      Type.String({ pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: 'oauth2: the token endpoint' }),
    ),
    clientId: Type.Optional(Type.String({ minLength: 1, description: 'oauth2: the client id' })),
    clientSecret: Type.Optional(
      Type.String({ writeOnly: true, minLength: 1, description: 'oauth2: the client secret (secret)' }),
    ),
    scope: Type.Optional(Type.String({ description: 'oauth2: the scope asked for' })),
    clientAuth: StringEnum(['basic', 'body'], {
      default: 'basic',
      description:
        'oauth2: send the client credentials in an Authorization: Basic header (RFC 6749 2.3.1) or in the form body',
    }),
    rejectUnauthorized: Type.Boolean({
      default: true,
      description: 'Verify the server certificate (https). Turn off only for a test endpoint.',
    }),
    ca: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM certificates to trust for https instead of the system ones (a private CA)',
      }),
    ),
    timeout: Type.Number({
      default: 30,
      exclusiveMinimum: 0,
      maximum: 3600,
      description:
        'Seconds to connect, to receive the response headers, and between two chunks of a body; a request slower than that is retried',
    }),
    retries: Type.Integer({
      default: 4,
      minimum: 0,
      maximum: 20,
      description: 'Retries after a network error, 429 or 5xx (the first attempt not counted)',
    }),
    retryDelay: Type.Number({
      default: 0.5,
      minimum: 0,
      maximum: 600,
      description: 'Seconds before the first retry; doubles each time, with random jitter',
    }),
    maxRetryDelay: Type.Number({
      default: 60,
      minimum: 0,
      maximum: 3600,
      description:
        'Longest wait between two attempts in seconds; a Retry-After asking for longer fails the request',
    }),
    requestsPerSecond: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 100000,
        description: 'Requests this process starts per second at most, over every run using the connection',
      }),
    ),
    concurrency: Type.Integer({
      default: 8,
      minimum: 1,
      maximum: 256,
      description:
        'Requests waiting for an answer at once, over every run using the connection (in this process)',
    }),
    maxResponseBytes: Type.Integer({
      default: 64 * 1024 * 1024,
      minimum: 1024,
      description: 'Largest response body (one page) in bytes, after decompression',
    }),
    checkPath: Type.Optional(
      Type.String({
        description:
          'Path (relative to baseUrl) that the connection test asks with GET; default baseUrl itself',
      }),
    ),
  },
  { additionalProperties: false },
);

export type HttpConfig = Static<typeof HttpConfigSchema>;

/** The settings each auth type needs, checked when a connection is saved and opened. */
const NEEDS: Record<HttpAuthType, readonly (keyof HttpConfig)[]> = {
  none: [],
  basic: ['username', 'password'],
  bearer: ['token'],
  'api-key': ['apiKey'],
  oauth2: ['tokenUrl', 'clientId', 'clientSecret'],
};

/** Validates a stored config and fills defaults; a bad one is VALIDATION_FAILED naming the field. */
export function parseHttpConfig(raw: Record<string, unknown>): HttpConfig {
  const config = validate(HttpConfigSchema, raw, 'http connection');
  const missing = NEEDS[config.auth].filter((f) => config[f] === undefined);
  if (missing.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `http connection: /${missing[0]} is required for auth ${config.auth}`,
      { details: missing.map((f) => ({ path: `/${f}`, message: `required for auth ${config.auth}` })) },
    );
  }
  let url: URL;
  try {
    url = new URL(config.baseUrl);
  } catch {
    throw new AppError('VALIDATION_FAILED', `http connection: /baseUrl '${config.baseUrl}' is not a URL`, {
      details: [{ path: '/baseUrl', message: 'not a URL' }],
    });
  }
  if (url.username || url.password) {
    throw new AppError(
      'VALIDATION_FAILED',
      'http connection: /baseUrl must not carry a user or password; use auth basic',
      { details: [{ path: '/baseUrl', message: 'use auth basic instead of credentials in the URL' }] },
    );
  }
  if (url.search || url.hash) {
    throw new AppError(
      'VALIDATION_FAILED',
      'http connection: /baseUrl must not have a query or fragment; requests add their own query',
      { details: [{ path: '/baseUrl', message: 'no query or fragment' }] },
    );
  }
  return config;
}

/** Fields encrypted at rest and never returned by the API. */
export const HTTP_SECRET_FIELDS = ['password', 'token', 'apiKey', 'clientSecret'] as const;
