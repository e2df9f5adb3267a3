import type { Run } from '../run-types.js';

/**
 * The one run queue every producer uses (async run requests, schedules, async listeners, retries). The
 * run record in the metadata store is the truth (status `queued`, `not_before`); an implementation only
 * decides how workers learn about queued runs and how they are spread over processes. Workers claim a
 * run through RunClaims, so a run offered twice still executes once.
 */
export interface RunQueue {
  /** `embedded`: workers poll the store; `bullmq`: Redis hands runs to worker processes. */
  readonly transport: 'embedded' | 'bullmq';
  /**
   * Offers a run that is already stored as queued to the workers, to start after `delayMs` (a retry's
   * backoff). Called by RunService.onQueued; offering a run again is harmless.
   */
  submit(run: Run, delayMs: number): Promise<void>;
  /** Starts executing queued runs in this process, at most INTEGRATOR_WORKERS at once. */
  startWorkers(): Promise<void>;
  /** Counts the transport keeps itself (BullMQ job states), for the stats API and metrics. */
  transportStats(): Promise<Record<string, number>>;
  /** Stops taking runs and waits for the runs this process is executing. */
  stop(): Promise<void>;
}
