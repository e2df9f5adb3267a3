import type { AuditInput } from '../audit/audit-event.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../core/logger.js';
import { UnitOfWork } from '../store/unit-of-work.js';
import { runEvent } from './run-records.js';
import type { RunStore } from './run-store.js';
import { afterCursor, type Run, type RunCursor, type RunFilter } from './run-types.js';

/** How often the journal looks at the runs executing in this process. */
const TICK_MS = 500;
/** A run started here is written to the store once it has run this long (short runs only when they end). */
const PUBLISH_AFTER_MS = 500;
/** Heartbeats and live progress go to the store every this many ticks (2 s). */
const HEARTBEAT_EVERY = 4;

/** A run executing in this process. */
export interface ActiveRun {
  run: Run;
  controller: AbortController;
  /** Progress or log lines not yet in the store. */
  dirty: boolean;
  /** Whether the store has a record of this run (otherwise it is written when it ends). */
  stored: boolean;
  /** The store write that publishes a running run, while it is in flight. */
  storing: Promise<void> | undefined;
  startedAt: number;
  clientIp: string | null;
}

/**
 * Keeps the store's run records in step with the runs executing in this process.
 *
 * A run started here (a synchronous run: the run API, a listener, a pipeline step) is not written when it
 * starts: a run that ends within half a second is written once, when it ends. A run still going after
 * half a second is written as running (with its heartbeat and a `flow.run.started` audit event), so
 * other processes, crash recovery and the runs list see it; until then it is visible in this process
 * only (`get`, `list` and `cancel` here see it).
 *
 * Final records go to the store with their `flow.run.finished` audit events, in the audit trail's group
 * commit: runs (and other audit events) that end while one such write is in flight share the next one,
 * so a busy listener pays one store transaction per burst of calls, and a run's record and its audit
 * event are never one without the other.
 */
export class RunJournal {
  private readonly active = new Map<string, ActiveRun>();
  private readonly timer: NodeJS.Timeout;
  private ticks = 0;
  private ticking = false;

  constructor(
    private readonly runs: RunStore,
    private readonly audit: AuditLog,
    private readonly workerId: string,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  track(run: Run, controller: AbortController, stored: boolean, clientIp: string | null): ActiveRun {
    const entry: ActiveRun = {
      clientIp,
      run,
      controller,
      dirty: false,
      stored,
      storing: undefined,
      startedAt: performance.now(),
    };
    this.active.set(run.id, entry);
    return entry;
  }

  /** Stops tracking a run (it has ended); its final record is written by `finish`. */
  untrack(id: string): void {
    this.active.delete(id);
  }

  get(id: string): ActiveRun | undefined {
    return this.active.get(id);
  }

  entries(): IterableIterator<ActiveRun> {
    return this.active.values();
  }

  get size(): number {
    return this.active.size;
  }

  /**
   * Writes a run's final record with its audit event; resolves once both are committed. The record is
   * an update of the stored one (guarded, so a status another process set is not overwritten), or the
   * one insert of a run that was never published.
   */
  async finish(entry: ActiveRun, event: AuditInput): Promise<void> {
    if (entry.storing) await entry.storing;
    await this.audit.recordWith(event, this.runs.addEnd(new UnitOfWork(), entry.run, entry.stored));
  }

  /** Runs executing here that the store does not hold yet and that match the filter. */
  unpublished(filter: RunFilter, cursor?: RunCursor): Run[] {
    const out: Run[] = [];
    for (const { run, stored } of this.active.values()) {
      if (stored) continue;
      if (filter.flow && run.flow !== filter.flow) continue;
      if (filter.status && run.status !== filter.status) continue;
      if (filter.trigger && run.trigger !== filter.trigger) continue;
      if (filter.parent && run.parentId !== filter.parent) continue;
      if (filter.from && run.createdAt < filter.from) continue;
      if (filter.to && run.createdAt >= filter.to) continue;
      if (!afterCursor(run, cursor)) continue;
      out.push(run);
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    // A slow store must not pile up passes: a tick that finds the last one still going skips its turn.
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.publish();
      if (++this.ticks % HEARTBEAT_EVERY === 0) await this.heartbeat();
    } finally {
      this.ticking = false;
    }
  }

  /** Writes the runs that have been going for a while as running, so everyone can see them. */
  private async publish(): Promise<void> {
    const now = performance.now();
    for (const entry of this.active.values()) {
      if (entry.stored || entry.storing || now - entry.startedAt < PUBLISH_AFTER_MS) continue;
      const { run } = entry;
      entry.storing = this.runs
        .insert(run)
        .then(
          () => {
            entry.stored = true;
            this.audit
              .record(runEvent('flow.run.started', run, entry.clientIp))
              .catch((err: unknown) => this.logger.error({ err }, 'audit of run start failed'));
          },
          (err: unknown) => this.logger.warn({ err, runId: entry.run.id }, 'publishing a running run failed'),
        )
        .finally(() => {
          entry.storing = undefined;
        });
      await entry.storing;
    }
  }

  private async heartbeat(): Promise<void> {
    // The heartbeat tells crash recovery these runs are alive; a stored run no longer marked running was
    // cancelled by another process.
    try {
      const ids = [...this.active.values()].filter((e) => e.stored).map((e) => e.run.id);
      const alive = await this.runs.heartbeat(ids, this.workerId);
      for (const id of ids) if (!alive.has(id)) this.active.get(id)?.controller.abort();
    } catch (err) {
      this.logger.warn({ err }, 'run heartbeat failed');
    }
    for (const entry of this.active.values()) {
      if (!entry.dirty || !entry.stored) continue;
      entry.dirty = false;
      try {
        const still = await this.runs.save(entry.run, ['running'], entry.run.attempt);
        if (!still) entry.controller.abort();
      } catch (err) {
        this.logger.warn({ err }, 'saving run progress failed');
      }
    }
  }
}
