import { delimiter, resolve } from 'node:path';
import { AppError } from './core/errors.js';

/**
 * Runtime settings, read once from the environment. Every deployment and test relies on these names;
 * the README's configuration table lists each one.
 */
export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  adminPassword: string | undefined;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  secret: string | undefined;
  tokenTtlSeconds: number;
  demo: boolean;
  logLevel: string;
  /** Include stack traces in run failures and 500 responses. */
  debug: boolean;
  /** Days to keep audit events; 0 keeps them forever. */
  auditRetentionDays: number;
  /** Maximum size of a JSON request body to the REST API, in bytes. */
  bodyLimit: number;
  /** Failed logins allowed per login and client address before throttling. */
  loginMaxFailures: number;
  /** Window for counting failed logins, in seconds. */
  loginWindowSeconds: number;
  /** Queued runs one process executes at once. */
  workers: number;
  /** Connections to a PostgreSQL metadata store, per process. */
  storePoolSize: number;
  /** Trust X-Forwarded-For from a reverse proxy for client addresses. */
  trustProxy: boolean;
  /** What this process does in a cluster: everything, the HTTP API (and scheduler), or runs only. */
  role: ProcessRole;
  /** Seconds without a heartbeat after which a running run counts as interrupted (its worker died). */
  runLeaseSeconds: number;
  /** Prefix of the BullMQ keys in Redis; clusters sharing one Redis need different prefixes. */
  queuePrefix: string;
  /** Whether this process fires schedules (roles all and api only). */
  scheduler: boolean;
  /** Seconds a client has to send a request's headers. */
  headersTimeoutSeconds: number;
  /** Seconds a client has to send a whole request, body included. */
  requestTimeoutSeconds: number;
  /** Seconds an idle keep-alive connection is kept open. */
  keepAliveTimeoutSeconds: number;
  /** Open HTTP connections one process accepts; more are closed as they arrive. */
  maxConnections: number;
  /**
   * The folders files and SQLite connections may use (absolute). Default: `files` in the data
   * directory. The data directory's own files stay out of reach whatever this says.
   */
  fileRoots: string[];
  /**
   * Seconds a listener remembers an Idempotency-Key: a repeated key within it answers the first call's
   * outcome, whatever the payload retention. At most 7 days: destinations keep their commit records
   * (connectors/commit-ledger.ts) that long.
   */
  idempotencyWindowSeconds: number;
}

export type ProcessRole = 'all' | 'api' | 'worker';

export function parseRole(raw: string | undefined): ProcessRole {
  switch (raw ?? 'all') {
    case 'all':
      return 'all';
    case 'api':
      return 'api';
    case 'worker':
      return 'worker';
    default:
      throw invalidSetting(`INTEGRATOR_ROLE must be all, api or worker, got '${raw}'`);
  }
}

type Env = Record<string, string | undefined>;

const invalidSetting = (message: string) => new AppError('INVALID_SETTING', message);

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidSetting(`${name} must be an integer ${range}, got '${raw}'`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw invalidSetting(`${name} must be true or false, got '${env[name]}'`);
}

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** INTEGRATOR_FILE_ROOTS: folders separated by the platform's path delimiter (`:`), each resolved. */
export function parseFileRoots(raw: string | undefined, dataDir: string): string[] {
  if (raw === undefined || raw.trim() === '') return [resolve(dataDir, 'files')];
  const entries = raw.split(delimiter);
  const roots: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `INTEGRATOR_FILE_ROOTS entry ${i + 1}`;
    if (entry.trim() === '')
      throw invalidSetting(`${where} is empty, in '${raw}'; separate folders with '${delimiter}'`);
    if (entry.includes('\0')) throw invalidSetting(`${where} contains a NUL byte`);
    roots.push(resolve(entry));
  }
  return roots;
}

export function loadSettings(env: Env = process.env): Settings {
  const headersTimeoutSeconds = int(env, 'INTEGRATOR_HEADERS_TIMEOUT', 30, 1);
  const requestTimeoutSeconds = int(env, 'INTEGRATOR_REQUEST_TIMEOUT', 300, 1);
  if (requestTimeoutSeconds < headersTimeoutSeconds) {
    throw new Error(
      `INTEGRATOR_REQUEST_TIMEOUT (${requestTimeoutSeconds}) must be at least INTEGRATOR_HEADERS_TIMEOUT (${headersTimeoutSeconds})`,
    );
  }
  const dataDir = resolve(str(env, 'INTEGRATOR_DATA_DIR') ?? './data');
  return {
    port: int(env, 'INTEGRATOR_PORT', 8080, 0, 65_535),
    host: str(env, 'INTEGRATOR_HOST') ?? '0.0.0.0',
    dataDir,
    adminPassword: str(env, 'INTEGRATOR_ADMIN_PASSWORD'),
    databaseUrl: str(env, 'INTEGRATOR_DATABASE_URL'),
    redisUrl: str(env, 'INTEGRATOR_REDIS_URL'),
    secret: str(env, 'INTEGRATOR_SECRET'),
    tokenTtlSeconds: int(env, 'INTEGRATOR_TOKEN_TTL', 600, 1),
    demo: bool(env, 'INTEGRATOR_DEMO', true),
    logLevel: str(env, 'INTEGRATOR_LOG_LEVEL') ?? 'info',
    debug: bool(env, 'INTEGRATOR_DEBUG', false),
    auditRetentionDays: int(env, 'INTEGRATOR_AUDIT_RETENTION_DAYS', 0),
    bodyLimit: int(env, 'INTEGRATOR_BODY_LIMIT', 1024 * 1024, 1024),
    loginMaxFailures: int(env, 'INTEGRATOR_LOGIN_MAX_FAILURES', 5, 1),
    loginWindowSeconds: int(env, 'INTEGRATOR_LOGIN_WINDOW', 900, 1),
    workers: int(env, 'INTEGRATOR_WORKERS', 10, 1),
    storePoolSize: int(env, 'INTEGRATOR_STORE_POOL', 20, 1),
    trustProxy: bool(env, 'INTEGRATOR_TRUST_PROXY', false),
    role: parseRole(str(env, 'INTEGRATOR_ROLE')),
    runLeaseSeconds: int(env, 'INTEGRATOR_RUN_LEASE', 30, 2),
    queuePrefix: str(env, 'INTEGRATOR_QUEUE_PREFIX') ?? 'integrator',
    scheduler: bool(env, 'INTEGRATOR_SCHEDULER', true),
    headersTimeoutSeconds,
    requestTimeoutSeconds,
    keepAliveTimeoutSeconds: int(env, 'INTEGRATOR_KEEP_ALIVE_TIMEOUT', 72, 1),
    maxConnections: int(env, 'INTEGRATOR_MAX_CONNECTIONS', 1000, 1),
    fileRoots: parseFileRoots(env['INTEGRATOR_FILE_ROOTS'], dataDir),
    idempotencyWindowSeconds: int(env, 'INTEGRATOR_IDEMPOTENCY_WINDOW', 86_400, 1, 604_800),
  };
}
