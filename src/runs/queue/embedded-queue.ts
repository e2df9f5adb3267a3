import type { CallGauge } from '../../core/call-gauge.js';
import type { Logger } from '../../core/logger.js';
import type { RunService } from '../run-service.js';
import type { Run } from '../run-types.js';
import type { FlowLimits } from './flow-limits.js';
import type { RunClaims } from './run-claims.js';
import type { RunQueue } from './run-queue.js';

/** How often idle workers look for runs queued by other processes or whose backoff has passed. */
const POLL_MS = 500;
/** Queued runs looked at per claim pass. */
const WINDOW = 50;

/**
 * The run queue of a single process (or of processes sharing a PostgreSQL store without Redis): queued
 * runs live in the metadata store, so they survive a crash, and workers in this process claim them
 * oldest first. A run queued here starts at once; others are found by polling.
 */
export class EmbeddedQueue implements RunQueue {
  readonly transport = 'embedded' as const;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private pumping = false;
  private again = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly delays = new Set<NodeJS.Timeout>();

  constructor(
    private readonly claims: RunClaims,
    private readonly limits: FlowLimits,
    private readonly runs: RunService,
    private readonly logger: Logger,
    private readonly concurrency: number,
    private readonly workerId: string,
    /** Listener calls of this process: while they are many, runs start one at a time. */
    private readonly calls?: CallGauge,
  ) {}

  /** How many runs may execute at once now. */
  private slots(): number {
    return this.calls?.busy ? 1 : this.concurrency;
  }

  async submit(_run: Run, delayMs: number): Promise<void> {
    if (this.stopped) return;
    if (delayMs <= 0) {
      void this.pump();
      return;
    }
    const t = setTimeout(() => {
      this.delays.delete(t);
      void this.pump();
    }, delayMs);
    t.unref();
    this.delays.add(t);
  }

  async startWorkers(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => void this.pump(), POLL_MS);
    this.timer.unref();
    void this.pump();
  }

  async transportStats(): Promise<Record<string, number>> {
    return { workers: this.stopped ? 0 : this.concurrency, executing: this.running };
  }

  private async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      // A run was queued while a pass was under way: look once more when it ends.
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.running < this.slots()) {
          const runs = await this.claimNext(this.slots() - this.running);
          if (runs.length === 0) break;
          for (const run of runs) this.launch(run);
        }
      } while (this.again && !this.stopped && this.running < this.slots());
    } catch (err) {
      this.logger.error({ err }, 'claiming queued runs failed');
    } finally {
      this.pumping = false;
    }
  }

  private launch(run: Run): void {
    this.running++;
    this.runs.started(run);
    const job = this.runs
      .executeQueued(run)
      .catch((err: unknown) => this.logger.error({ err, runId: run.id }, 'queued run failed to execute'))
      .finally(() => {
        this.running--;
        this.inflight.delete(job);
        void this.pump();
      });
    this.inflight.add(job);
  }

  /**
   * Up to `slots` of the oldest runs that may start now, skipping flows at their concurrency limit and
   * busy lanes. Runs without a limit or lane are claimed together in one update (a backlog of listener
   * payloads starts as fast as workers free up); a run with one is claimed alone, under its locks.
   */
  private async claimNext(slots: number): Promise<Run[]> {
    const fullFlows = new Set<string>();
    for (;;) {
      const candidates = await this.claims.ready(WINDOW, [...fullFlows]);
      if (candidates.length === 0) return [];
      let lostAny = false;
      const free: string[] = [];
      for (const c of candidates) {
        // Still executing here under an earlier attempt (another process failed it over): wait for it.
        if (fullFlows.has(c.flow) || this.runs.isActive(c.id)) continue;
        const limit = await this.limits.get(c.flow);
        if (limit === undefined && !c.lane) {
          free.push(c.id);
          if (free.length >= slots) break;
          continue;
        }
        // Oldest first: the unlimited runs queued before this one go first.
        if (free.length > 0) break;
        const result = await this.claims.claim(c, this.workerId, limit);
        if ('claimed' in result) return [result.claimed];
        if ('busy' in result && result.busy === 'flow') fullFlows.add(c.flow);
        if ('lost' in result) lostAny = true;
      }
      if (free.length > 0) {
        const claimed = await this.claims.takeMany(free, this.workerId);
        if (claimed.length > 0) return claimed;
        lostAny = true;
      }
      // Every candidate was held back by a limit: nothing can start until a run finishes.
      if (!lostAny) return [];
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.delays) clearTimeout(t);
    this.delays.clear();
    await Promise.allSettled([...this.inflight]);
  }
}
