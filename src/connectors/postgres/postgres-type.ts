import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { ConnectorType } from '../connector.js';
import { PostgresConfigSchema, parsePostgresConfig, urlFilePaths } from './postgres-config.js';

/** The PostgreSQL connection type. Its driver (pg) loads when the first PostgreSQL connection opens. */
export const postgresConnectorType: ConnectorType = {
  type: 'postgres',
  title: 'PostgreSQL',
  configSchema: PostgresConfigSchema,
  secretFields: ['password', 'url'],
  localPaths: urlFilePaths,
  async create(config, ctx) {
    const parsed = parsePostgresConfig(config);
    const { createPostgresConnector } = await import('./postgres-connector.js');
    return createPostgresConnector(parsed, (path, name) => {
      const real = ctx.files.requireSync(resolve(ctx.dataDir, path), `${name} '${path}'`);
      try {
        return readFileSync(real, 'utf8');
      } catch (err) {
        const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
        throw new AppError('VALIDATION_FAILED', `url: ${name} '${path}' cannot be read (${reason})`);
      }
    });
  },
};
