/** Connection settings every message broker shares: a URL, credentials (secret), TLS and timeouts. */
import { type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.js';
import { validate } from '../../core/validate.js';
import type { Connector, ConnectorContext, ConnectorType } from '../connector.js';

/**
 * The schema of one broker's settings: `schemes` are the URL schemes it takes (the first one's `s`
 * form means TLS). The URL is secret as a whole, since it may carry a password.
 */
export function brokerConfigSchema<T extends TProperties>(
  schemes: readonly string[],
  example: string,
  extra: T,
) {
  return Type.Object(
    {
      url: Type.String({
        pattern: `^(${schemes.join('|')})://`,
        description: `${schemes.join(':// or ')}:// URL, e.g. ${example}. Secret (it may hold a password); prefer username/password.`,
        writeOnly: true,
      }),
      username: Type.Optional(
        Type.String({ minLength: 1, description: 'User name (overrides one in the URL)' }),
      ),
      password: Type.Optional(
        Type.String({ writeOnly: true, description: 'Password (secret; overrides one in the URL)' }),
      ),
      rejectUnauthorized: Type.Boolean({
        default: true,
        description: 'TLS: verify the broker certificate. Turn off only for a test broker.',
      }),
      ca: Type.Optional(
        Type.String({
          minLength: 1,
          description: 'TLS: PEM certificates to trust instead of the system ones',
        }),
      ),
      timeout: Type.Number({
        default: 10,
        exclusiveMinimum: 0,
        maximum: 600,
        description: 'Seconds to connect and to wait for any one reply of the broker',
      }),
      ...extra,
    },
    { additionalProperties: false },
  );
}

export const BROKER_SECRET_FIELDS = ['url', 'password'] as const;

export interface BrokerBase {
  url: string;
  username?: string;
  password?: string;
  rejectUnauthorized: boolean;
  ca?: string;
  timeout: number;
}

/** The URL parsed, refused with the field named when it is not one. */
export function brokerUrl(config: BrokerBase, type: string): URL {
  try {
    return new URL(config.url);
  } catch {
    // The URL may hold a password: it is not repeated in the message.
    throw new AppError('VALIDATION_FAILED', `${type} connection: /url is not a URL`, {
      details: [{ path: '/url', message: 'not a URL' }],
    });
  }
}

/** TLS options for node:tls when the URL asks for TLS. */
export function tlsOptions(config: BrokerBase): { rejectUnauthorized: boolean; ca?: string } {
  return { rejectUnauthorized: config.rejectUnauthorized, ...(config.ca ? { ca: config.ca } : {}) };
}

/** A client error as CONNECTION_FAILED, naming the broker and never the URL (it may hold a password). */
export function connectionFailed(broker: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const reason = err instanceof Error ? err.message || err.constructor.name : String(err);
  return new AppError('CONNECTION_FAILED', `${broker}: ${reason}`, { cause: err });
}

/** A connection lost while publishing: CONNECTION_FAILED with the reason (the writer names the broker). */
export function lost(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('CONNECTION_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * A broker's connector type: its settings checked the same way when a connection is saved and when it
 * opens (the schema, then the URL), so `open` only ever sees settings that passed both.
 */
export function brokerConnectorType<C extends BrokerBase>(def: {
  type: string;
  title: string;
  configSchema: TSchema & { static: C };
  consumes?: ConnectorType['consumes'];
  open(config: C, ctx: ConnectorContext): Promise<Connector>;
}): ConnectorType {
  const parse = (config: unknown): C => {
    const parsed: C = validate(def.configSchema, config, `${def.type} connection`);
    brokerUrl(parsed, def.type);
    return parsed;
  };
  return {
    type: def.type,
    title: def.title,
    configSchema: def.configSchema,
    secretFields: BROKER_SECRET_FIELDS,
    ...(def.consumes ? { consumes: def.consumes } : {}),
    validate(config) {
      parse(config);
    },
    create: (config, ctx) => def.open(parse(config), ctx),
  };
}

/** What a SQL flow on a broker connection is told: brokers run no statements. */
export function noSql(type: string): Promise<never> {
  return Promise.reject(
    new AppError('BAD_REQUEST', `A connection of type ${type} runs no SQL; use it in a transfer step`),
  );
}
