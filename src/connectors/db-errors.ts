/**
 * Database driver errors turned into catalog errors. The message keeps the database's own words
 * (they name the column and value) and adds what the user was doing. What a driver's code means is
 * each dialect's to say (postgres/pg-errors.ts, mysql/mysql-errors.ts, sqlite/sqlite-errors.ts); this
 * file holds only the shape they answer in and the socket failures every networked driver shares.
 */
import { AppError, type ErrorCode, errorMessage } from '../core/errors.js';

/** What a driver's failure means, as the dialect that raised it reads its own code. */
export interface DbFailure {
  /**
   * `lost`: the connection went away under a statement; `unreachable`: no connection could be made
   * or the database refused it (auth, a missing database); `cancelled`: the statement was stopped;
   * `data`: the caller's record does not fit (422, with `code`); `other`: anything else (400).
   */
  kind: 'lost' | 'unreachable' | 'cancelled' | 'data' | 'other';
  /** For `data`: INVALID_VALUE, CONSTRAINT_VIOLATION, UNKNOWN_FIELD … */
  code?: ErrorCode;
  /** The input line a bulk load failed at, when the database names it. */
  line?: string;
  /** The database's own detail (the key and value of a broken constraint), when it gives one. */
  detail?: string;
}

/** A dialect's reading of its driver's errors; every connector of a database passes its own. */
export type ErrorClassifier = (err: unknown) => DbFailure;

export function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

const SOCKET_LOST = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);
const SOCKET_UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** Node's own socket failures, the same under every networked driver; undefined for anything else. */
export function socketFailure(code: string): DbFailure | undefined {
  if (SOCKET_LOST.has(code)) return { kind: 'lost' };
  if (SOCKET_UNREACHABLE.has(code)) return { kind: 'unreachable' };
  return undefined;
}

/** `doing` reads like "writing to table 'x'". */
export function dbError(err: unknown, doing: string, classify: ErrorClassifier): AppError {
  if (err instanceof AppError) return err;
  const failure = classify(err);
  if (failure.kind === 'lost') {
    return new AppError(
      'CONNECTION_FAILED',
      `${doing} failed: the connection to the database was lost (${errorMessage(err)})`,
      { cause: err },
    );
  }
  const msg = `${doing} failed${failure.line ? ` at line ${failure.line}` : ''}: ${errorMessage(err)}`;
  if (failure.kind === 'unreachable') return new AppError('CONNECTION_FAILED', msg, { cause: err });
  if (failure.kind === 'cancelled') {
    return new AppError('RUN_CANCELLED', `${doing} was cancelled`, { cause: err });
  }
  const full = failure.detail ? `${msg} (${failure.detail})` : msg;
  const code = failure.kind === 'data' && failure.code ? failure.code : 'BAD_REQUEST';
  return new AppError(code, full, { cause: err });
}
