import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../core/errors.js';

/**
 * Validates user-supplied options against a schema after filling in its defaults. Called once per read
 * or write (not per row), so the cost of cloning and checking does not matter; the result is typed by the
 * schema, which is why config reads need no casts.
 */
export function readOptions<T extends TSchema>(schema: T, raw: unknown, what: string): Static<T> {
  const value = Value.Default(schema, Value.Clone(raw ?? {}));
  if (Value.Check(schema, value)) return value;
  const details = [...Value.Errors(schema, value)].map((e) => ({
    path: e.path === '' ? '/' : e.path,
    message: e.message,
  }));
  const first = details[0];
  throw new AppError(
    'VALIDATION_FAILED',
    `Invalid ${what} options${first ? `: ${first.path} ${first.message}` : ''}`,
    { details },
  );
}
