/** Connection settings for a folder on an SFTP server. Loads no SSH code. */
import { type Static, Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.js';
import { validate } from '../../core/validate.js';

export const SftpConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'The SFTP server (name or address)' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 22 }),
    username: Type.String({ minLength: 1 }),
    password: Type.Optional(Type.String({ writeOnly: true, description: 'Password authentication' })),
    privateKey: Type.Optional(
      Type.String({
        writeOnly: true,
        description: 'Private key authentication: the key file text (OpenSSH or PEM format)',
      }),
    ),
    passphrase: Type.Optional(Type.String({ writeOnly: true, description: 'The private key passphrase' })),
    hostKey: Type.Optional(
      Type.String({
        pattern: '^SHA256:[A-Za-z0-9+/]{43}$',
        description:
          "The SHA-256 fingerprint of the server's host key as `ssh-keygen -lf` prints it (SHA256:…). A server with another key is refused; without it any host key is accepted.",
      }),
    ),
    root: Type.String({
      minLength: 1,
      default: '.',
      description:
        "The folder on the server this connection reads and writes; relative to the login's folder unless absolute. Every file path stays inside it.",
    }),
    connectTimeout: Type.Integer({
      minimum: 1,
      maximum: 600,
      default: 20,
      description: 'Seconds to connect and authenticate',
    }),
    keepaliveInterval: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 10,
      description: 'Seconds between keepalive messages on an idle connection (0: none)',
    }),
    keepaliveCountMax: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'Unanswered keepalives after which the connection counts as lost',
    }),
  },
  { additionalProperties: false },
);

export type SftpConfig = Static<typeof SftpConfigSchema>;

/** Validates a stored config and fills defaults; a config without credentials is refused by name. */
export function parseSftpConfig(raw: Record<string, unknown>): SftpConfig {
  const config = validate(SftpConfigSchema, raw, 'sftp connection');
  if (config.password === undefined && config.privateKey === undefined) {
    throw new AppError('VALIDATION_FAILED', 'sftp connection: set /password or /privateKey', {
      details: [{ path: '/password', message: 'a password or a private key is required' }],
    });
  }
  return config;
}
