/**
 * One connection borrowed from a pool for one unit of work, the same way for every database: an abort
 * of the signal stops the running statement from another connection, a failure maps to the error
 * catalog (RUN_CANCELLED when cancelled), and a connection that failed is destroyed, never reused.
 */
import { cancelledError, onAbort, throwIfAborted } from './abort.js';
import { dbError, type ErrorClassifier } from './db-errors.js';

export interface PoolSession<C> {
  acquire(): Promise<C>;
  /** Stops whatever the connection runs (pg_cancel_backend, KILL QUERY). */
  cancel(conn: C): Promise<void>;
  /** Returns the connection to the pool when healthy, destroys it otherwise. */
  release(conn: C, healthy: boolean): void;
  /** The dialect's reading of its driver's errors. */
  classifyError: ErrorClassifier;
}

/**
 * Runs `work` on a borrowed connection. `undo` runs after a failure, before the connection goes
 * (ROLLBACK, dropping a table the work created); its own failure is ignored. `doing` reads like
 * "loading CSV into 'orders'".
 */
export async function onConnection<C, T>(
  session: PoolSession<C>,
  signal: AbortSignal | undefined,
  doing: string,
  work: (conn: C) => Promise<T>,
  undo?: (conn: C) => Promise<unknown>,
): Promise<T> {
  throwIfAborted(signal);
  const conn = await session.acquire().catch((e: unknown) => {
    throw dbError(e, 'connecting', session.classifyError);
  });
  let cancelled = false;
  const unhook = onAbort(signal, () => {
    cancelled = true;
    void session.cancel(conn);
  });
  let healthy = false;
  try {
    const result = await work(conn);
    healthy = true;
    return result;
  } catch (e) {
    await undo?.(conn).catch(() => undefined);
    throw cancelled ? cancelledError() : dbError(e, doing, session.classifyError);
  } finally {
    unhook();
    session.release(conn, healthy && !cancelled);
  }
}
