/** What SQLite's result codes mean for the caller (see db-errors.ts for the shape). */
import type { AppError } from '../../core/errors.js';
import { codeOf, type DbFailure, dbError } from '../db-errors.js';

export function classifySqliteError(err: unknown): DbFailure {
  const code = codeOf(err) ?? '';
  if (code === 'SQLITE_CANTOPEN') return { kind: 'unreachable' };
  // SQLITE_CONSTRAINT_UNIQUE, _NOTNULL, _FOREIGNKEY, _CHECK … all break a constraint.
  if (code.startsWith('SQLITE_CONSTRAINT')) return { kind: 'data', code: 'CONSTRAINT_VIOLATION' };
  if (code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') {
    return { kind: 'data', code: 'INVALID_VALUE' };
  }
  return { kind: 'other' };
}

/** A SQLite driver error as a catalog error; `doing` reads like "writing to table 'x'". */
export function sqliteError(err: unknown, doing: string): AppError {
  return dbError(err, doing, classifySqliteError);
}
