/** Connection settings for PostgreSQL: a URL, or host/port/database/user/password. */
import type { Static } from '@sinclair/typebox';
import { validate } from '../../core/validate.js';
import { serverConfigSchema } from '../server-config.js';

export const PostgresConfigSchema = serverConfigSchema('postgres', 5432);

export type PostgresConfig = Static<typeof PostgresConfigSchema>;

/** Validates a stored config and fills defaults; a bad config is a clear VALIDATION_FAILED. */
export function parsePostgresConfig(raw: Record<string, unknown>): PostgresConfig {
  return validate(PostgresConfigSchema, raw, 'postgres connection');
}

/** URL parameters the driver would read as local files: a client certificate, its key, the CA. */
export const FILE_PARAMETERS = new Set(['sslcert', 'sslkey', 'sslrootcert']);
export type FileParameter = 'sslcert' | 'sslkey' | 'sslrootcert';

/**
 * Takes the file parameters out of a connection URL's query, splitting it as URLSearchParams does (the
 * driver parses the URL with it), so the files are opened by the connector through the file roots and
 * never by the driver.
 */
export function splitUrlFiles(url: string): { rest: string; files: Partial<Record<FileParameter, string>> } {
  const q = url.indexOf('?');
  if (q === -1) return { rest: url, files: {} };
  const hash = url.indexOf('#', q);
  const end = hash === -1 ? url.length : hash;
  const files: Partial<Record<FileParameter, string>> = {};
  const kept: string[] = [];
  for (const pair of url.slice(q + 1, end).split('&')) {
    const [entry] = new URLSearchParams(pair);
    if (entry && FILE_PARAMETERS.has(entry[0])) files[entry[0] as FileParameter] = entry[1];
    else kept.push(pair);
  }
  return { rest: `${url.slice(0, q)}${kept.length ? `?${kept.join('&')}` : ''}${url.slice(end)}`, files };
}

/** The local files a PostgreSQL URL names, for the file-roots check when the connection is saved. */
export function urlFilePaths(config: Record<string, unknown>): { field: string; path: string }[] {
  if (typeof config['url'] !== 'string') return [];
  return Object.values(splitUrlFiles(config['url']).files).map((path) => ({ field: '/url', path }));
}
