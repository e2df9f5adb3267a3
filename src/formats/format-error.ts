import { AppError } from '../core/errors.js';

/**
 * The one way formats report bad input: the message starts with the source and the place ("orders.csv
 * line 17: unclosed quote") so a user can open the file at the right spot; the detail carries the same.
 */
export function formatError(source: string, where: string, message: string, cause?: unknown): AppError {
  const path = `${source} ${where}`;
  return new AppError('FORMAT_ERROR', `${path}: ${message}`, {
    details: [{ path, message }],
    ...(cause === undefined ? {} : { cause }),
  });
}
