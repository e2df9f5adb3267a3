import type { ConnectorType } from '../connector.js';
import { MysqlConfigSchema, parseMysqlConfig } from './mysql-config.js';

/** The MySQL/MariaDB connection type. Its driver (mysql2) loads when the first such connection opens. */
export const mysqlConnectorType: ConnectorType = {
  type: 'mysql',
  title: 'MySQL / MariaDB',
  configSchema: MysqlConfigSchema,
  secretFields: ['password', 'url'],
  async create(config) {
    const parsed = parseMysqlConfig(config);
    const { createMysqlConnector } = await import('./mysql-connector.js');
    return createMysqlConnector(parsed);
  },
};
