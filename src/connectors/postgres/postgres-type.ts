import type { ConnectorType } from '../connector.js';
import { PostgresConfigSchema, parsePostgresConfig } from './postgres-config.js';

/** The PostgreSQL connection type. Its driver (pg) loads when the first PostgreSQL connection opens. */
export const postgresConnectorType: ConnectorType = {
  type: 'postgres',
  title: 'PostgreSQL',
  configSchema: PostgresConfigSchema,
  secretFields: ['password', 'url'],
  async create(config) {
    const parsed = parsePostgresConfig(config);
    const { createPostgresConnector } = await import('./postgres-connector.js');
    return createPostgresConnector(parsed);
  },
};
