/** Connection settings every message broker shares: a URL, credentials (secret), TLS and timeouts. */
import { type TProperties, Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.js';

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
