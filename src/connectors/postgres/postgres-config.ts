/** Connection settings for PostgreSQL: a URL, or host/port/database/user/password. */
import { type Static, Type } from '@sinclair/typebox';
import type { PoolConfig } from 'pg';
import { validate } from '../../core/validate.js';

export const PostgresConfigSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ description: 'postgres://user:password@host:port/database' })),
    host: Type.Optional(Type.String({ default: '127.0.0.1' })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 5432 })),
    database: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    password: Type.Optional(Type.String({ writeOnly: true })),
    ssl: Type.Optional(Type.Boolean({ description: 'Use TLS (certificate verified)' })),
    poolSize: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  },
  { additionalProperties: false },
);

export type PostgresConfig = Static<typeof PostgresConfigSchema>;

/** Validates a stored config and fills defaults; a bad config is a clear VALIDATION_FAILED. */
export function parsePostgresConfig(raw: Record<string, unknown>): PostgresConfig {
  return validate(PostgresConfigSchema, raw, 'postgres connection');
}

export function poolConfig(config: PostgresConfig): PoolConfig {
  const base: PoolConfig = {
    max: config.poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'integrator',
  };
  if (config.url) return { ...base, connectionString: config.url, ...(config.ssl ? { ssl: true } : {}) };
  return {
    ...base,
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    ...(config.ssl ? { ssl: true } : {}),
  };
}
