/** Cancellation helpers: every connector turns an aborted signal into the same RUN_CANCELLED error. */
import { AppError } from '../core/errors.js';

export function cancelledError(): AppError {
  return new AppError('RUN_CANCELLED', 'the run was cancelled; the statement was stopped');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

/** Runs `onAbort` once when the signal fires; returns the function that unhooks it. */
export function onAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
