/** What MySQL's and MariaDB's error codes mean for the caller (see db-errors.ts for the shape). */
import type { AppError, ErrorCode } from '../../core/errors.js';
import { codeOf, type DbFailure, dbError, socketFailure } from '../db-errors.js';

/** The connection went away under a statement: a killed connection, a server shutting down. */
const LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ER_CONNECTION_KILLED', 'ER_SERVER_SHUTDOWN']);
const UNREACHABLE = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', 'ER_DBACCESS_DENIED_ERROR']);

/**
 * The record does not fit: a field the table lacks, a value of the wrong type or size, a broken
 * constraint. These are the caller's errors (422), not the server's.
 */
const DATA_CODES: Record<string, ErrorCode> = {
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

export function classifyMysqlError(err: unknown): DbFailure {
  const code = codeOf(err) ?? '';
  if (LOST.has(code)) return { kind: 'lost' };
  const socket = socketFailure(code);
  if (socket) return socket;
  if (UNREACHABLE.has(code)) return { kind: 'unreachable' };
  if (code === 'ER_QUERY_INTERRUPTED') return { kind: 'cancelled' };
  if (Object.hasOwn(DATA_CODES, code)) return { kind: 'data', code: DATA_CODES[code] };
  return { kind: 'other' };
}

/** A MySQL/MariaDB driver error as a catalog error; `doing` reads like "writing to table 'x'". */
export function mysqlError(err: unknown, doing: string): AppError {
  return dbError(err, doing, classifyMysqlError);
}
