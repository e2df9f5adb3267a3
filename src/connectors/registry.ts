import { AppError } from '../core/errors.js';
import { byName } from '../core/named-entries.js';
import { mqttConnectorType } from './brokers/mqtt.js';
import { natsConnectorType } from './brokers/nats.js';
import { rabbitmqConnectorType } from './brokers/rabbitmq.js';
import { redisStreamsConnectorType } from './brokers/redis-streams.js';
import type { ConnectorType } from './connector.js';
import { filesConnector } from './files/index.js';
import { httpConnectorType } from './http/http-connector.js';
import { mysqlConnectorType } from './mysql/mysql-type.js';
import { postgresConnectorType } from './postgres/postgres-type.js';
import { sftpConnectorType } from './sftp/sftp-type.js';
import { sqliteConnectorType } from './sqlite/sqlite-connector.js';

/**
 * Every connector the server ships. The composition root builds its ConnectorRegistry from this list
 * plus any extra connectors it is given; nothing registers itself by being imported.
 */
export const BUILTIN_CONNECTORS: readonly ConnectorType[] = [
  postgresConnectorType,
  mysqlConnectorType,
  sqliteConnectorType,
  filesConnector,
  sftpConnectorType,
  httpConnectorType,
  rabbitmqConnectorType,
  redisStreamsConnectorType,
  natsConnectorType,
  mqttConnectorType,
];

/** Other names the built-in connectors answer to: MariaDB speaks the MySQL protocol. */
export const BUILTIN_CONNECTOR_ALIASES: Readonly<Record<string, string>> = { mariadb: 'mysql' };

/**
 * The connectors one server knows, by type. The connection schema (a union of every connector's
 * settings) and the list of types in errors and docs are derived from it.
 */
export class ConnectorRegistry {
  private readonly byType: Map<string, ConnectorType>;

  constructor(types: readonly ConnectorType[], aliases: Readonly<Record<string, string>> = {}) {
    this.byType = byName('connector', types, (t) => t.type);
    for (const [alias, type] of Object.entries(aliases)) {
      const target = this.byType.get(type);
      if (!target) throw new Error(`connector alias '${alias}' names no connector '${type}'`);
      if (this.byType.has(alias)) throw new Error(`connector '${alias}' is registered twice`);
      this.byType.set(alias, target);
    }
  }

  /** The connectors, each once, in registration order (aliases left out). */
  list(): ConnectorType[] {
    return [...new Set(this.byType.values())];
  }

  /** Every name a connection's `type` may hold, aliases included. */
  names(): string[] {
    return [...this.byType.keys()];
  }

  get(type: string): ConnectorType {
    const t = this.byType.get(type);
    if (!t) {
      throw new AppError('VALIDATION_FAILED', `Unknown connection type '${type}'`, {
        details: [{ path: '/type', message: `must be one of ${this.names().join(', ')}` }],
      });
    }
    return t;
  }
}

export function builtinConnectors(): ConnectorRegistry {
  return new ConnectorRegistry(BUILTIN_CONNECTORS, BUILTIN_CONNECTOR_ALIASES);
}
