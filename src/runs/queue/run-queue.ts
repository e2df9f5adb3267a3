import type { Run } from '../run-types.js';

/**
 * What a queue's workers do with the runs they claim: the run service of the process. Given to
 * `startWorkers`, not to the constructor, because the run service itself offers runs to the queue: the
 * queue is built first, the run service on it, and the workers start with the run service (as a BullMQ
 * Queue is made before the Worker that processes its jobs).
 */
export interface QueuedRunExecutor {
  /** Whether the run executes in this process already (under an earlier attempt). */
  isActive(id: string): boolean;
  /** Marks a claimed run as started in the trail. */
  started(run: Run): void;
  /** Executes a claimed run to its end (or to its next retry). */
  executeQueued(run: Run): Promise<Run>;
}

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
   * backoff). Called by the run service; offering a run again is harmless. Before the workers start
   * (or in a process without workers) a run offered here waits in the store for a worker to find it.
   */
  submit(run: Run, delayMs: number): Promise<void>;
  /** Starts executing queued runs in this process with `executor`, at most INTEGRATOR_WORKERS at once. */
  startWorkers(executor: QueuedRunExecutor): Promise<void>;
  /** Counts the transport keeps itself (BullMQ job states), for the stats API and metrics. */
  transportStats(): Promise<Record<string, number>>;
  /** Stops taking runs and waits for the runs this process is executing. Safe to call more than once. */
  stop(): Promise<void>;
}
