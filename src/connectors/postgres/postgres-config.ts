/** Connection settings for PostgreSQL: a URL, or host/port/database/user/password. */
import type { Static } from '@sinclair/typebox';
import type { PoolConfig } from 'pg';
import { validate } from '../../core/validate.js';
import { serverConfigSchema } from '../server-config.js';

export const PostgresConfigSchema = serverConfigSchema('postgres', 5432);

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
