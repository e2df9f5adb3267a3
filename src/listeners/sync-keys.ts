import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { RunService } from '../runs/run-service.js';
import type { Run } from '../runs/run-types.js';
import type { IdempotencyKeys } from './idempotency-keys.js';

/**
 * What a sync call with an Idempotency-Key does: answer the outcome of the first call's run
 * (`replay`), or execute a run under the id the key holds (see RunService.runSyncAs).
 */
export type KeyedSyncRun = { replay: Run } | { id: string; previous?: Run; recheck: boolean };

function inProgress(runId: string): AppError {
  return new AppError(
    'CONFLICT',
    `A call with this Idempotency-Key is still in progress (run ${runId}); send it again shortly`,
    { headers: { 'retry-after': '1' } },
  );
}

/**
 * Decides a keyed sync call. A new key is taken for a new run. A key seen within the window:
 * - its run succeeded: the call answers that run's outcome and runs nothing;
 * - its run is still executing (here, or elsewhere with a live heartbeat), or it has no record yet but
 *   the key is younger than the run lease (a run in another process is recorded once it has run half a
 *   second): CONFLICT with Retry-After;
 * - its run failed or was interrupted (crash recovery failed it), or left no record at all (its process
 *   was killed before writing one): the same run executes again; its destinations recorded every step
 *   that committed, and those are not written twice.
 */
export async function keyedSyncRun(
  keys: IdempotencyKeys,
  runs: RunService,
  listener: string,
  key: string,
  leaseMs: number,
): Promise<KeyedSyncRun> {
  const id = randomUUID();
  const seen = await keys.claim(listener, key, id);
  if (!seen) return { id, recheck: false };
  if (seen.messageId !== null)
    throw new AppError('CONFLICT', `Idempotency-Key '${key}' was taken by an asynchronous call`);
  if (runs.isActive(seen.runId)) throw inProgress(seen.runId);
  const stored = await runs.store.get(seen.runId);
  if (!stored) {
    if (Date.now() - Date.parse(seen.createdAt) < leaseMs) throw inProgress(seen.runId);
    return { id: seen.runId, recheck: true };
  }
  if (stored.status === 'succeeded') return { replay: stored };
  if (stored.status === 'running' || stored.status === 'queued') throw inProgress(seen.runId);
  return { id: seen.runId, previous: stored, recheck: true };
}
