/** Connection settings for MySQL and MariaDB: a URL, or host/port/database/user/password. */
import type { Static } from '@sinclair/typebox';
import type { PoolOptions } from 'mysql2';
import { validate } from '../../core/validate.js';
import { serverConfigSchema } from '../server-config.js';
import { mysqlTypeCast } from './mysql-types.js';

export const MysqlConfigSchema = serverConfigSchema('mysql', 3306);

export type MysqlConfig = Static<typeof MysqlConfigSchema>;

export function parseMysqlConfig(raw: Record<string, unknown>): MysqlConfig {
  return validate(MysqlConfigSchema, raw, 'mysql connection');
}

export function mysqlPoolOptions(config: MysqlConfig): PoolOptions {
  const base: PoolOptions = {
    connectionLimit: config.poolSize,
    // Values come back the same on every connector: UTC instants, 'YYYY-MM-DD' dates; DECIMAL and
    // BIGINT are read from their text by mysqlTypeCast, never through a double.
    timezone: 'Z',
    dateStrings: ['DATE'],
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    charset: 'utf8mb4_unicode_ci',
    typeCast: mysqlTypeCast,
    ...(config.ssl ? { ssl: {} } : {}),
  };
  if (config.url) {
    const u = new URL(config.url);
    return {
      ...base,
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
    };
  }
  return {
    ...base,
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
  };
}
