import { hostname } from 'node:os';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/database.js';
import type { RunService } from './run-service.js';
import { toRun } from './run-store.js';
import type { Run } from './run-types.js';

/**
 * The run queue of a single process: queued runs live in the metadata store (so they survive a
 * crash), and a worker loop in this process claims them one by one with an atomic update. Claims are
 * safe across processes sharing a PostgreSQL store too: the `status = 'queued'` guard lets exactly one
 * claimer win.
 */
export class EmbeddedQueue {
  readonly workerId = `${hostname()}:${process.pid}`;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private pumping = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly logger: Logger,
    private readonly concurrency: number,
  ) {}

  /** Recovers runs a previous process left running, then starts polling. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.recover();
    this.runs.onQueued = () => void this.pump();
    this.timer = setInterval(() => void this.pump(), 500);
    this.timer.unref();
    void this.pump();
  }

  /**
   * A run still marked running at start-up was cut off by a crash or kill: it is marked failed with the
   * reason, never left running forever.
   */
  private async recover(): Promise<void> {
    const resumed = (await this.runs.resumeInterrupted?.()) ?? 0;
    if (resumed > 0) this.logger.warn({ runs: resumed }, 'queued runs interrupted by a previous stop again');
    const res = await this.store.db
      .updateTable('runs')
      .set({
        status: 'failed',
        finished_at: new Date().toISOString(),
        error: 'The server stopped while this run was in progress',
      })
      .where('status', '=', 'running')
      .where((eb) => eb.or([eb('worker', '=', this.workerId), eb('worker', 'is', null)]))
      .executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    if (n > 0) this.logger.warn({ runs: n }, 'marked runs interrupted by a previous stop as failed');
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      while (!this.stopped && this.running < this.concurrency) {
        const claimed = await this.claim();
        if (!claimed) break;
        this.running++;
        const job = this.runs
          .execute(claimed)
          .catch((err: unknown) =>
            this.logger.error({ err, runId: claimed.id }, 'queued run failed to execute'),
          )
          .finally(() => {
            this.running--;
            this.inflight.delete(job);
            void this.pump();
          });
        this.inflight.add(job);
      }
    } catch (err) {
      this.logger.error({ err }, 'claiming queued runs failed');
    } finally {
      this.pumping = false;
    }
  }

  private async claim(): Promise<Run | undefined> {
    const next = await this.store.db
      .selectFrom('runs')
      .select('id')
      .where('status', '=', 'queued')
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!next) return undefined;
    const row = await this.store.db
      .updateTable('runs')
      .set({ status: 'running', started_at: new Date().toISOString(), worker: this.workerId })
      .where('id', '=', next.id)
      .where('status', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
    if (!row) return this.claim();
    const run = toRun(row);
    this.runs.started(run);
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.runs.onQueued = undefined;
    await Promise.allSettled([...this.inflight]);
  }
}
