/** Settings for a SQLite database file; a relative path resolves against the data directory. */
import { isAbsolute, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { validate } from '../../core/validate.js';

export const SqliteConfigSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description:
        'Database file; relative to the data directory. It must be inside INTEGRATOR_FILE_ROOTS unless an admin saves the connection.',
    }),
  },
  { additionalProperties: false },
);

export type SqliteConfig = Static<typeof SqliteConfigSchema>;

export function parseSqliteConfig(raw: Record<string, unknown>): SqliteConfig {
  return validate(SqliteConfigSchema, raw, 'sqlite connection');
}

export function databaseFile(config: SqliteConfig, dataDir: string): string {
  return isAbsolute(config.path) ? config.path : resolve(dataDir, config.path);
}
