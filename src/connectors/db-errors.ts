/**
 * Database driver errors turned into catalog errors. The message keeps the database's own words
 * (they name the column and value) and adds what the user was doing.
 */
import { AppError, type ErrorCode, errorMessage } from '../core/errors.js';

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

/**
 * What a target's refusal means for the caller, by the driver's error code: the record does not fit
 * (a field the table lacks, a value of the wrong type or size, a broken constraint). These are the
 * caller's errors (422), not the server's.
 */
const MYSQL_DATA_CODES: Record<string, ErrorCode> = {
  ER_BAD_FIELD_ERROR: 'UNKNOWN_FIELD',
  ER_DUP_ENTRY: 'CONSTRAINT_VIOLATION',
  ER_BAD_NULL_ERROR: 'CONSTRAINT_VIOLATION',
  ER_NO_DEFAULT_FOR_FIELD: 'CONSTRAINT_VIOLATION',
  ER_NO_REFERENCED_ROW: 'CONSTRAINT_VIOLATION',
  ER_NO_REFERENCED_ROW_2: 'CONSTRAINT_VIOLATION',
  ER_ROW_IS_REFERENCED_2: 'CONSTRAINT_VIOLATION',
  ER_CHECK_CONSTRAINT_VIOLATED: 'CONSTRAINT_VIOLATION',
  ER_CONSTRAINT_FAILED: 'CONSTRAINT_VIOLATION',
  ER_TRUNCATED_WRONG_VALUE: 'INVALID_VALUE',
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: 'INVALID_VALUE',
  ER_DATA_TOO_LONG: 'INVALID_VALUE',
  ER_WARN_DATA_OUT_OF_RANGE: 'INVALID_VALUE',
  WARN_DATA_TRUNCATED: 'INVALID_VALUE',
  ER_INVALID_JSON_TEXT: 'INVALID_VALUE',
  ER_WRONG_VALUE_FOR_TYPE: 'INVALID_VALUE',
  ER_DIVISION_BY_ZERO: 'INVALID_VALUE',
  ER_INVALID_CHARACTER_STRING: 'INVALID_VALUE',
};

function dataCode(code: string): ErrorCode | undefined {
  // PostgreSQL SQLSTATE: class 22 data exception, class 23 integrity constraint, 42703 undefined column.
  if (/^22[0-9A-Z]{3}$/.test(code)) return 'INVALID_VALUE';
  if (/^23[0-9A-Z]{3}$/.test(code)) return 'CONSTRAINT_VIOLATION';
  if (code === '42703') return 'UNKNOWN_FIELD';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'CONSTRAINT_VIOLATION';
  if (code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') return 'INVALID_VALUE';
  return Object.hasOwn(MYSQL_DATA_CODES, code) ? MYSQL_DATA_CODES[code] : undefined;
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
  // PostgreSQL's detail names the key and value of a broken constraint ("Key (id)=(7) already exists").
  const detail = typeof err === 'object' && err !== null && 'detail' in err ? err.detail : undefined;
  const full = typeof detail === 'string' && detail !== '' ? `${msg} (${detail})` : msg;
  return new AppError(dataCode(code) ?? 'BAD_REQUEST', full, { cause: err });
}
