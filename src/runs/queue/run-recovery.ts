import type { Logger } from '../../core/logger.js';
import type { FlowEngine } from '../../flows/flow-engine.js';
import type { Store } from '../../store/database.js';
import type { RunsTable } from '../../store/schema.js';
import { retryDelayMs } from '../retry-policy.js';
import type { RunService } from '../run-service.js';
import { toRun } from '../run-store.js';
import type { Run } from '../run-types.js';

/** Runs handled per sweep; a longer backlog is worked off by the next sweeps. */
const BATCH = 100;
/** Attempts a recovery policy's `retry` may force beyond the flow's own, so a crashing run ends. */
const FORCED_ATTEMPTS = 3;

/**
 * A feature's say on its own interrupted runs: `retry` queues the run again, `fail` ends it with the
 * reason, undefined leaves the default (retry while the flow's `retry.attempts` allow and the run came
 * from the queue). A feature whose runs can safely run again (an async listener with a stored payload)
 * gives one.
 */
export type RecoveryPolicy = (run: Run) => 'retry' | 'fail' | undefined;

/**
 * Crash recovery: a run marked `running` whose process stopped sending heartbeats (SIGKILL, power loss,
 * a lost network) is never left running. When its destinations recorded the commit of every step
 * (commit-ledger.ts) it is marked succeeded with the rows they recorded. Otherwise it is queued again when its flow's `retry.attempts` allow
 * (with the flow's backoff) or when the recovery policy says so, and failed with the reason
 * otherwise. Every process sweeps; the guarded update lets exactly one of them act on each run.
 */
export class RunRecovery {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly engine: FlowEngine,
    private readonly logger: Logger,
    private readonly leaseSeconds: number,
    private readonly policy?: RecoveryPolicy,
  ) {}

  /**
   * Sweeps now and then every third of the lease. `ownsStore` (the SQLite store of a single process)
   * means every run still marked running at start-up was cut off, so the first sweep does not wait for
   * the lease to pass.
   */
  async start(ownsStore: boolean): Promise<void> {
    await this.sweep(ownsStore ? 0 : this.leaseSeconds * 1000);
    const every = Math.max(1000, (this.leaseSeconds * 1000) / 3);
    this.timer = setInterval(() => {
      this.sweep(this.leaseSeconds * 1000).catch((err: unknown) =>
        this.logger.error({ err }, 'run recovery failed'),
      );
    }, every);
    this.timer.unref();
  }

  /** Recovers runs without a heartbeat for `leaseMs`; returns how many it handled. */
  async sweep(leaseMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - leaseMs).toISOString();
    const stale = await this.store.db
      .selectFrom('runs')
      .selectAll()
      .where('status', '=', 'running')
      .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', cutoff)]))
      .orderBy('created_at')
      .limit(BATCH)
      .execute();
    let handled = 0;
    for (const row of stale) {
      // Runs of this process are alive by definition (their heartbeat may merely be late).
      if (this.runs.isActive(row.id)) continue;
      if (await this.recover(row)) handled++;
    }
    if (handled > 0) this.logger.warn({ runs: handled }, 'recovered runs interrupted by a stopped process');
    return handled;
  }

  private async recover(row: RunsTable): Promise<boolean> {
    const run = toRun(row);
    const who = row.worker ? `worker ${row.worker}` : 'the process running it';
    const reason = `Interrupted: ${who} stopped while the run was in progress (attempt ${run.attempt})`;
    const flow = await this.engine.load(run.flow).catch(() => undefined);
    // The destination may have committed just before the process stopped: then the run is done.
    const recorded = flow
      ? await this.engine.recorded(flow, run.id).catch((err: unknown) => {
          this.logger.warn({ err, runId: run.id }, 'asking the destination about an interrupted run failed');
          return undefined;
        })
      : undefined;
    const delayMs = recorded ? undefined : await this.retryDelay(run, row.worker);
    const now = new Date();
    let q = this.store.db
      .updateTable('runs')
      .where('id', '=', row.id)
      .where('status', '=', 'running')
      .where('attempt', '=', row.attempt);
    q = row.heartbeat_at
      ? q.where('heartbeat_at', '=', row.heartbeat_at)
      : q.where('heartbeat_at', 'is', null);
    if (delayMs !== undefined) {
      const notBefore = new Date(now.getTime() + delayMs).toISOString();
      const res = await q
        .set({ status: 'queued', attempt: run.attempt + 1, not_before: notBefore, error: reason })
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      const queued: Run = { ...run, status: 'queued', attempt: run.attempt + 1, notBefore, error: reason };
      this.runs.announce(queued, delayMs);
      this.logger.warn({ runId: run.id, attempt: queued.attempt }, 'queued an interrupted run again');
      return true;
    }
    const finishedAt = now.toISOString();
    const durationMs = run.startedAt ? now.getTime() - Date.parse(run.startedAt) : null;
    if (recorded) {
      const res = await q
        .set({
          status: 'succeeded',
          finished_at: finishedAt,
          duration_ms: durationMs,
          error: null,
          error_code: null,
          rows_read: recorded.rowsRead,
          rows_written: recorded.rowsWritten,
          steps: JSON.stringify(recorded.steps),
        })
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      this.logger.warn({ runId: run.id }, 'an interrupted run had committed: marked succeeded');
      await this.runs.recordFinished({
        ...run,
        ...recorded,
        status: 'succeeded',
        finishedAt,
        durationMs,
        error: null,
        errorCode: null,
      });
      return true;
    }
    const res = await q
      .set({
        status: 'failed',
        finished_at: finishedAt,
        error: reason,
        error_code: 'INTERNAL',
        duration_ms: durationMs,
      })
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await this.runs.recordFinished({
      ...run,
      status: 'failed',
      finishedAt,
      durationMs,
      error: reason,
      errorCode: 'INTERNAL',
    });
    return true;
  }

  /** The policy: the feature's own say first, then the flow's retry settings for queued runs. */
  private async retryDelay(run: Run, worker: string | null): Promise<number | undefined> {
    const flow = await this.engine.load(run.flow).catch(() => undefined);
    const decision = this.policy?.(run);
    if (decision === 'fail') return undefined;
    const delay = flow ? retryDelayMs(flow, run.attempt) : undefined;
    if (decision === 'retry') return delay ?? (run.attempt < FORCED_ATTEMPTS ? 1000 : undefined);
    // A synchronous run (no queue worker) had a caller waiting, who has long had an error.
    if (worker === null) return undefined;
    return delay;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
