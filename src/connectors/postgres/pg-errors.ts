/** What PostgreSQL's SQLSTATEs mean for the caller (see db-errors.ts for the shape). */
import type { AppError } from '../../core/errors.js';
import { codeOf, type DbFailure, dbError, socketFailure } from '../db-errors.js';

/** A terminated backend (57P01-57P03) or a broken link (08003, 08006): the statement's connection is gone. */
const LOST = new Set(['57P01', '57P02', '57P03', '08003', '08006']);

function stringField(err: unknown, name: 'where' | 'detail'): string {
  if (typeof err !== 'object' || err === null || !(name in err)) return '';
  const value: unknown = Reflect.get(err, name);
  return name === 'where' ? String(value) : typeof value === 'string' ? value : '';
}

function kindOf(code: string): Pick<DbFailure, 'kind' | 'code'> {
  if (LOST.has(code)) return { kind: 'lost' };
  const socket = socketFailure(code);
  if (socket) return socket;
  // Class 08 connection exception, 28 invalid authorization, 3D invalid catalog (no such database).
  if (/^(08|28|3D)/.test(code)) return { kind: 'unreachable' };
  if (code === '57014') return { kind: 'cancelled' };
  // Class 22 data exception, class 23 integrity constraint, 42703 undefined column.
  if (/^22[0-9A-Z]{3}$/.test(code)) return { kind: 'data', code: 'INVALID_VALUE' };
  if (/^23[0-9A-Z]{3}$/.test(code)) return { kind: 'data', code: 'CONSTRAINT_VIOLATION' };
  if (code === '42703') return { kind: 'data', code: 'UNKNOWN_FIELD' };
  return { kind: 'other' };
}

export function classifyPgError(err: unknown): DbFailure {
  const failure: DbFailure = kindOf(codeOf(err) ?? '');
  // A failed COPY names its input line in `where` ("COPY t, line 3"); a broken constraint names its
  // key and value in `detail` ("Key (id)=(7) already exists").
  const line = /COPY [^,]+, line (\d+)/.exec(stringField(err, 'where'))?.[1];
  if (line) failure.line = line;
  const detail = stringField(err, 'detail');
  if (detail) failure.detail = detail;
  return failure;
}

/** A PostgreSQL driver error as a catalog error; `doing` reads like "writing to table 'x'". */
export function pgError(err: unknown, doing: string): AppError {
  return dbError(err, doing, classifyPgError);
}
