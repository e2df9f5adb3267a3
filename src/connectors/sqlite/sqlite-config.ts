/** Settings for a SQLite database file; a relative path resolves against the data directory. */
import { isAbsolute, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../../core/errors.js';

export const SqliteConfigSchema = Type.Object(
  { path: Type.String({ minLength: 1, description: 'Database file; relative to the data directory' }) },
  { additionalProperties: false },
);

export type SqliteConfig = Static<typeof SqliteConfigSchema>;

export function parseSqliteConfig(raw: Record<string, unknown>): SqliteConfig {
  const withDefaults = Value.Default(SqliteConfigSchema, structuredClone(raw));
  if (!Value.Check(SqliteConfigSchema, withDefaults)) {
    const first = Value.Errors(SqliteConfigSchema, withDefaults).First();
    throw new AppError(
      'VALIDATION_FAILED',
      `sqlite connection: ${first?.path ?? ''} ${first?.message ?? ''}`,
      {
        details: first ? [{ path: first.path, message: first.message }] : [],
      },
    );
  }
  return withDefaults;
}

export function databaseFile(config: SqliteConfig, dataDir: string): string {
  return isAbsolute(config.path) ? config.path : resolve(dataDir, config.path);
}
