import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { Run } from '../run-types.js';
import type { FlowLimits } from './flow-limits.js';
import type { RunClaims } from './run-claims.js';
import type { QueuedRunExecutor, RunQueue } from './run-queue.js';

const QUEUE_NAME = 'runs';
/** How long a run held back by a limit waits before a worker looks at it again. */
const BUSY_DELAY_MS = 250;

export interface BullmqOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  workerId: string;
  /** Seconds: the job lock and the stalled-job check (a killed worker's job is offered again). */
  leaseSeconds: number;
}

interface RunJob {
  runId: string;
}

function runIdOf(job: Job): string {
  const data: unknown = job.data;
  if (typeof data === 'object' && data !== null && 'runId' in data && typeof data.runId === 'string')
    return data.runId;
  throw new Error(`job ${job.id ?? '?'} carries no run id`);
}

/**
 * The run queue of a cluster: BullMQ on Redis spreads queued runs over worker processes, which claim
 * each run in the PostgreSQL store before executing it (so a job delivered twice, or a stalled job
 * offered again, still runs once). A job's id is the run id and attempt, so offering a run twice adds
 * one job. A job for a run held back by a flow's concurrency limit or a busy lane is delayed briefly.
 */
export class BullmqQueue implements RunQueue {
  readonly transport = 'bullmq' as const;
  /** Opened on first use: a process that never offers a run (a CLI command) never connects to Redis. */
  private producer: { connection: Redis; queue: Queue<RunJob> } | undefined;
  private stopped = false;
  private worker: Worker<RunJob> | undefined;
  private workerConnection: Redis | undefined;
  private reconciler: NodeJS.Timeout | undefined;
  private executor: QueuedRunExecutor | undefined;

  constructor(
    private readonly claims: RunClaims,
    private readonly limits: FlowLimits,
    private readonly logger: Logger,
    private readonly options: BullmqOptions,
  ) {}

  private get queue(): Queue<RunJob> {
    if (this.stopped) throw new Error('the run queue is stopped');
    if (!this.producer) {
      const connection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
      connection.on('error', (err) => this.logger.warn({ err }, 'redis connection error'));
      this.producer = {
        connection,
        queue: new Queue<RunJob>(QUEUE_NAME, { connection, prefix: this.options.prefix }),
      };
    }
    return this.producer.queue;
  }

  private get runs(): QueuedRunExecutor {
    if (!this.executor) throw new Error('the run queue has no workers');
    return this.executor;
  }

  async submit(run: Run, delayMs: number): Promise<void> {
    await this.queue.add(
      'run',
      { runId: run.id },
      {
        jobId: `${run.id}.${run.attempt}`,
        delay: Math.max(0, delayMs),
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    );
  }

  async startWorkers(executor: QueuedRunExecutor): Promise<void> {
    this.executor = executor;
    const lockMs = this.options.leaseSeconds * 1000;
    this.workerConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.worker = new Worker<RunJob>(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: this.workerConnection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // The store decides a run's fate (RunRecovery); the job is only its wake-up, so let it be
      // offered again as often as workers die.
      maxStalledCount: 100,
    });
    this.worker.on('error', (err) => this.logger.warn({ err }, 'run queue worker error'));
    // A run stored as queued whose job never reached Redis (the api process died in between, or
    // Redis lost data) is offered again.
    this.reconciler = setInterval(() => void this.reconcile(), lockMs);
    this.reconciler.unref();
  }

  private async process(job: Job<RunJob>, token: string | undefined): Promise<string> {
    const c = await this.claims.candidate(runIdOf(job));
    if (c?.status !== 'queued') return 'not queued';
    const wait = c.notBefore ? Date.parse(c.notBefore) - Date.now() : 0;
    if (wait > 0) return this.later(job, token, wait);
    // Still executing here under an earlier attempt (another process failed it over): wait for it.
    if (this.runs.isActive(c.id)) return this.later(job, token, BUSY_DELAY_MS);
    const result = await this.claims.claim(c, this.options.workerId, await this.limits.get(c.flow));
    if ('busy' in result) return this.later(job, token, BUSY_DELAY_MS + Math.random() * BUSY_DELAY_MS);
    if ('lost' in result) return 'claimed elsewhere';
    this.runs.started(result.claimed);
    const run = await this.runs.executeQueued(result.claimed);
    return run.status;
  }

  private async later(job: Job<RunJob>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + Math.ceil(ms), token);
    throw new DelayedError();
  }

  private async reconcile(): Promise<void> {
    try {
      const stuck = await this.claims.stuckQueued(this.options.leaseSeconds * 1000, 500);
      for (const run of stuck) await this.submit(run, 0);
    } catch (err) {
      this.logger.warn({ err }, 're-offering queued runs failed');
    }
  }

  async transportStats(): Promise<Record<string, number>> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    return Object.fromEntries(Object.entries(counts).map(([k, v]) => [`jobs_${k}`, v]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconciler) clearInterval(this.reconciler);
    const { worker, workerConnection, producer } = this;
    this.worker = undefined;
    this.workerConnection = undefined;
    this.producer = undefined;
    // close() waits for the jobs this worker is processing to finish.
    await worker?.close();
    await producer?.queue.close();
    workerConnection?.disconnect();
    producer?.connection.disconnect();
  }
}
