/** The driver's pool settings for a PostgreSQL connection (loaded with the driver, not at start-up). */
import type { PoolConfig } from 'pg';
import { parse } from 'pg-connection-string';
import { AppError } from '../../core/errors.js';
import { type FileParameter, type PostgresConfig, splitUrlFiles } from './postgres-config.js';

/** Reads a file a connection names, through the file roots; `name` says which setting names it. */
export type ConnectionFileReader = (path: string, name: string) => string;

export function poolConfig(config: PostgresConfig, readFile?: ConnectionFileReader): PoolConfig {
  const base: PoolConfig = {
    max: config.poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'integrator',
  };
  if (config.url) {
    const { rest, files } = splitUrlFiles(config.url);
    const named = Object.entries(files) as [FileParameter, string][];
    if (named.length === 0)
      return { ...base, connectionString: config.url, ...(config.ssl ? { ssl: true } : {}) };
    // Parsed here, without the file parameters, so that the TLS options the URL sets (sslmode) and the
    // files' contents end up in one `ssl` object.
    const parsed = parse(rest);
    if (parsed.ssl === false) return { ...base, ...(parsed as PoolConfig) };
    const ssl: Record<string, unknown> = typeof parsed.ssl === 'object' ? { ...parsed.ssl } : {};
    const option = { sslcert: 'cert', sslkey: 'key', sslrootcert: 'ca' } as const;
    for (const [name, path] of named) {
      if (!readFile)
        throw new AppError('VALIDATION_FAILED', `url: ${name} needs the server's file access to be read`);
      ssl[option[name]] = readFile(path, `the URL's ${name}`);
    }
    return { ...base, ...(parsed as PoolConfig), ssl };
  }
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
