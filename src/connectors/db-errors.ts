/**
 * Database driver errors turned into catalog errors. The message keeps the database's own words
 * (they name the column and value) and adds what the user was doing.
 */
import { AppError, errorMessage } from '../core/errors.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'SQLITE_CANTOPEN',
]);

/**
 * The connection went away under a statement: a reset or closed socket, a terminated backend
 * (PostgreSQL 57P01-57P03, a broken link 08003/08006), a killed MySQL/MariaDB connection.
 */
const LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ERR_STREAM_DESTROYED',
  '57P01',
  '57P02',
  '57P03',
  '08003',
  '08006',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
]);

function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** `doing` reads like "writing to table 'x'". */
export function dbError(err: unknown, doing: string): AppError {
  if (err instanceof AppError) return err;
  const code = codeOf(err) ?? '';
  // PostgreSQL names the input line of a failed COPY in `where` ("COPY t, line 3"): keep it.
  const where = typeof err === 'object' && err !== null && 'where' in err ? String(err.where) : '';
  const line = /COPY [^,]+, line (\d+)/.exec(where)?.[1];
  if (LOST_CODES.has(code)) {
    return new AppError(
      'CONNECTION_FAILED',
      `${doing} failed: the connection to the database was lost (${errorMessage(err)})`,
      { cause: err },
    );
  }
  const msg = `${doing} failed${line ? ` at line ${line}` : ''}: ${errorMessage(err)}`;
  // PostgreSQL SQLSTATE classes: 08 connection, 28 auth, 3D no database, 57014 cancelled.
  if (CONNECTION_CODES.has(code) || /^(08|28|3D)/.test(code)) {
    return new AppError('CONNECTION_FAILED', msg, { cause: err });
  }
  if (code === '57014' || code === 'ER_QUERY_INTERRUPTED') {
    return new AppError('RUN_CANCELLED', `${doing} was cancelled`, { cause: err });
  }
  return new AppError('BAD_REQUEST', msg, { cause: err });
}
