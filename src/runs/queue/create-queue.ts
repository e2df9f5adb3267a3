import type { Settings } from '../../config.js';
import type { CallGauge } from '../../core/call-gauge.js';
import type { Logger } from '../../core/logger.js';
import type { DefinitionService } from '../../definitions/definition-service.js';
import type { Store } from '../../store/database.js';
import { EmbeddedQueue } from './embedded-queue.js';
import { FlowLimits } from './flow-limits.js';
import { RunClaims } from './run-claims.js';
import type { RunQueue } from './run-queue.js';

export interface RunQueueDeps {
  settings: Settings;
  store: Store;
  definitions: DefinitionService;
  logger: Logger;
  /** Listener calls in flight in this process (the embedded queue yields to a busy intake). */
  calls: CallGauge;
  /** How this process is named in runs' `worker` column. */
  workerId: string;
}

/**
 * Picks the run queue from the settings: BullMQ when INTEGRATOR_REDIS_URL is set (which needs the
 * shared PostgreSQL store), the embedded store-backed queue otherwise. The BullMQ client is imported
 * only then, so a process without Redis never loads it.
 */
export async function createRunQueue(deps: RunQueueDeps): Promise<RunQueue> {
  const { settings, store, logger, workerId } = deps;
  const claims = new RunClaims(store);
  const limits = new FlowLimits(deps.definitions);
  if (settings.redisUrl) {
    if (!store.shared) {
      throw new Error(
        'INTEGRATOR_REDIS_URL needs INTEGRATOR_DATABASE_URL: the processes of a cluster share runs ' +
          'and schedules through a PostgreSQL metadata store',
      );
    }
    const { BullmqQueue } = await import('./bullmq-queue.js');
    return new BullmqQueue(claims, limits, logger, {
      redisUrl: settings.redisUrl,
      prefix: settings.queuePrefix,
      concurrency: settings.workers,
      workerId,
      leaseSeconds: settings.runLeaseSeconds,
    });
  }
  return new EmbeddedQueue(claims, limits, logger, settings.workers, workerId, deps.calls);
}
