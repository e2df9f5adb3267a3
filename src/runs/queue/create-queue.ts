import type { Context } from '../../context.js';
import { BullmqQueue } from './bullmq-queue.js';
import { EmbeddedQueue } from './embedded-queue.js';
import { FlowLimits } from './flow-limits.js';
import { RunClaims } from './run-claims.js';
import type { RunQueue } from './run-queue.js';

/**
 * Picks the run queue from the settings: BullMQ when INTEGRATOR_REDIS_URL is set (which needs the
 * shared PostgreSQL store), the embedded store-backed queue otherwise.
 */
export function createRunQueue(ctx: Context): RunQueue {
  const { settings } = ctx;
  const workerId = ctx.runs.workerId;
  const claims = new RunClaims(ctx.store);
  const limits = new FlowLimits(ctx.definitions);
  if (settings.redisUrl) {
    if (ctx.store.dialect !== 'postgres') {
      throw new Error(
        'INTEGRATOR_REDIS_URL needs INTEGRATOR_DATABASE_URL: the processes of a cluster share runs ' +
          'and schedules through a PostgreSQL metadata store',
      );
    }
    return new BullmqQueue(claims, limits, ctx.runs, ctx.logger, {
      redisUrl: settings.redisUrl,
      prefix: settings.queuePrefix,
      concurrency: settings.workers,
      workerId,
      leaseSeconds: settings.runLeaseSeconds,
    });
  }
  return new EmbeddedQueue(claims, limits, ctx.runs, ctx.logger, settings.workers, workerId, ctx.calls);
}
