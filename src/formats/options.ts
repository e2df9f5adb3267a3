import type { Static, TSchema } from '@sinclair/typebox';
import { validate } from '../core/validate.js';

/**
 * Validates user-supplied options against a schema after filling in its defaults. Called once per read
 * or write (not per row), so the cost of cloning and checking does not matter; the result is typed by the
 * schema, which is why config reads need no casts.
 */
export function readOptions<T extends TSchema>(schema: T, raw: unknown, what: string): Static<T> {
  return validate(schema, raw ?? {}, `${what} options`);
}
