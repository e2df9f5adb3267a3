import { AppError } from '../core/errors.js';
import type { ConnectorType } from './connector.js';
import { filesConnector } from './files/index.js';
import { mysqlConnectorType } from './mysql/mysql-connector.js';
import { postgresConnectorType } from './postgres/postgres-connector.js';
import { sqliteConnectorType } from './sqlite/sqlite-connector.js';

/** Every connector the server knows, by type. Explicit, so nothing registers itself by being imported. */
const CONNECTOR_TYPES: readonly ConnectorType[] = [
  postgresConnectorType,
  mysqlConnectorType,
  sqliteConnectorType,
  filesConnector,
];

const BY_TYPE = new Map<string, ConnectorType>(CONNECTOR_TYPES.map((t) => [t.type, t]));
// MariaDB speaks the MySQL protocol; accept its name as an alias.
BY_TYPE.set('mariadb', mysqlConnectorType);

export function connectorTypes(): readonly ConnectorType[] {
  return CONNECTOR_TYPES;
}

export function connectorType(type: string): ConnectorType {
  const t = BY_TYPE.get(type);
  if (!t) {
    throw new AppError('VALIDATION_FAILED', `Unknown connection type '${type}'`, {
      details: [{ path: '/type', message: `must be one of ${[...BY_TYPE.keys()].join(', ')}` }],
    });
  }
  return t;
}
