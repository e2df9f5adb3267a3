/**
 * The contract every transform implements, and the errors they raise. A transform is compiled once
 * per flow definition; `start` is called once per run and returns the per-batch function, so per-run
 * state (dedupe's key set, record counters) never leaks between runs.
 */
import { AppError } from '../core/errors.js';
import type { Column, Row } from '../core/records.js';

/**
 * Maps one batch to the next. `firstRecord` is the 1-based number, counted at this transform's input,
 * of the batch's first row; it is only used for error messages. The function may return the same
 * array or rows it was given (transforms own the batches handed to them).
 */
export type BatchFn = (batch: Row[], firstRecord: number) => Row[];

export interface Stage {
  start(params: Record<string, unknown>): BatchFn;
  /** The columns after this transform; throws VALIDATION_FAILED when it names a missing column. */
  outputColumns(input: Column[]): Column[];
}

/** A config path segment for a user-supplied key: `.name` when it is a plain word, else `["odd name"]`. */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path}: ${message}`, { details: [{ path, message }] });
}

/** A bad value at run time, named by transform path, record number and column. */
export function recordError(path: string, record: number, column: string, err: unknown): AppError {
  const reason = err instanceof Error ? err.message : String(err);
  const message = `record ${record}, column '${column}': ${reason}`;
  return new AppError('INVALID_VALUE', `${path}: ${message}`, { details: [{ path, message }], cause: err });
}

/** Fails when any of `names` is not among `columns`, listing what is there. */
export function requireColumns(columns: Column[], names: Iterable<string>, path: string, what: string): void {
  const have = new Set(columns.map((c) => c.name));
  for (const name of names) {
    if (!have.has(name)) {
      const list = columns.map((c) => c.name).join(', ');
      throw invalid(path, `${what} '${name}' is not an input column (columns: ${list || 'none'})`);
    }
  }
}
