import type { CallGauge } from '../../core/call-gauge.js';
import type { Logger } from '../../core/logger.js';
import type { Run } from '../run-types.js';
import type { FlowLimits } from './flow-limits.js';
import type { RunClaims } from './run-claims.js';
import type { QueuedRunExecutor, RunQueue } from './run-queue.js';

/** How often idle workers look for runs queued by other processes or whose backoff has passed. */
const POLL_MS = 500;
/**
 * While listener calls take the CPU, runs start one at a time and at least this far apart: they keep
 * moving (at most 20 a second) while a burst is accepted at full speed, and go at full speed after it.
 */
const BUSY_START_GAP_MS = 50;
/** Runs queued here remembered for a claim by id; more are found by scanning the store. */
const MAX_HINTS = 50_000;
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
  /** The claim pass under way, which stop() waits for before the store may close. */
  private pass: Promise<void> | undefined;
  private again = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly delays = new Set<NodeJS.Timeout>();
  /**
   * Runs queued in this process, oldest first: claimed by id, without asking the store which runs wait
   * (a scan that grows with the backlog). Runs queued elsewhere, delayed or beyond the limit are found by
   * that scan when these run out.
   */
  private readonly hinted: { id: string; flow: string; lane: string | null }[] = [];
  /** When the last run started, and the pump waiting for the gap after it (see slots). */
  private lastStart = Number.NEGATIVE_INFINITY;
  private gapTimer: NodeJS.Timeout | undefined;
  /** What executes claimed runs, given by startWorkers (no claim pass runs before it: `stopped`). */
  private executor: QueuedRunExecutor | undefined;

  constructor(
    private readonly claims: RunClaims,
    private readonly limits: FlowLimits,
    private readonly logger: Logger,
    private readonly concurrency: number,
    private readonly workerId: string,
    /** Listener calls of this process: while they are many, runs start one at a time. */
    private readonly calls?: CallGauge,
  ) {}

  private get runs(): QueuedRunExecutor {
    if (!this.executor) throw new Error('the embedded run queue has no workers');
    return this.executor;
  }

  /** How many runs may execute at once now. */
  private slots(): number {
    if (!this.calls?.busy) return this.concurrency;
    // Yielding to the calls: one run at a time, and not more often than every BUSY_START_GAP_MS.
    const wait = this.lastStart + BUSY_START_GAP_MS - performance.now();
    if (wait <= 0) return 1;
    if (!this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        void this.pump();
      }, wait);
      this.gapTimer.unref();
    }
    return 0;
  }

  async submit(run: Run, delayMs: number): Promise<void> {
    if (this.stopped) return;
    if (delayMs <= 0) {
      if (this.hinted.length < MAX_HINTS)
        this.hinted.push({ id: run.id, flow: run.flow, lane: run.lane ?? null });
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

  async startWorkers(executor: QueuedRunExecutor): Promise<void> {
    this.executor = executor;
    this.stopped = false;
    this.timer = setInterval(() => void this.pump(), POLL_MS);
    this.timer.unref();
    void this.pump();
  }

  async transportStats(): Promise<Record<string, number>> {
    return { workers: this.stopped ? 0 : this.concurrency, executing: this.running };
  }

  private pump(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pass) {
      // A run was queued while a pass was under way: look once more when it ends.
      this.again = true;
      return this.pass;
    }
    this.pass = this.claimPass().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  private async claimPass(): Promise<void> {
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
    }
  }

  private launch(run: Run): void {
    this.running++;
    this.lastStart = performance.now();
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
    const hinted = await this.claimHinted(slots);
    if (hinted.length > 0) return hinted;
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

  /**
   * Up to `slots` of the runs queued here, by id. A run with a concurrency limit or a lane is left to the
   * store scan, which takes their locks; one already taken (by another worker, a cancel) is skipped by
   * the claim's guard.
   */
  private async claimHinted(slots: number): Promise<Run[]> {
    while (this.hinted.length > 0) {
      const free: string[] = [];
      while (this.hinted.length > 0 && free.length < slots) {
        const h = this.hinted.shift() as { id: string; flow: string; lane: string | null };
        if (h.lane || this.runs.isActive(h.id) || (await this.limits.get(h.flow)) !== undefined) continue;
        free.push(h.id);
      }
      if (free.length === 0) continue;
      const claimed = await this.claims.takeMany(free, this.workerId);
      if (claimed.length > 0) return claimed;
    }
    return [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const t of this.delays) clearTimeout(t);
    this.delays.clear();
    await this.pass;
    await Promise.allSettled([...this.inflight]);
  }
}
