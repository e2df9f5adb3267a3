import type { AuditLog } from '../audit/audit-log.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { LogLine } from '../flows/engine-types.js';
import type { FlowEngine } from '../flows/flow-engine.js';
import type { FlowSpec } from '../flows/flow-schema.js';
import type { RunQueue } from './queue/run-queue.js';
import { retryDelayMs } from './retry-policy.js';
import { RunEvents } from './run-events.js';
import { type ActiveRun, RunJournal } from './run-journal.js';
import { newRun, runEvent } from './run-records.js';
import type { RunStore } from './run-store.js';
import type { Run, RunCursor, RunFilter, RunIo, RunRequest } from './run-types.js';

const MAX_LOG_LINES = 1000;

export interface RunServiceOptions {
  /** Hands runs stored as queued to the workers (and retries after their backoff). */
  queue: Pick<RunQueue, 'submit'>;
  /**
   * Supplies the I/O of a queued run that needs one (an async listener's stored payload); asked before
   * a worker executes any run.
   */
  io?: (run: Run) => Promise<RunIo | undefined>;
  /** How this process is named in runs' `worker` column (host:pid). */
  workerId: string;
  /** Adds a failed run's stack trace to its log. */
  debug?: boolean;
}

/**
 * Runs flows and keeps their records: creates the run, executes it through the engine, stores the
 * outcome, audits start and finish, and cancels on request. Used by the run API, listeners, the queue
 * worker and the CLI alike.
 */
/** Pipelines running pipelines: how deep runs may nest. */
export const MAX_PIPELINE_DEPTH = 16;

export class RunService {
  readonly workerId: string;
  /** Runs queued, started, progressing, logging and finished in this process, for live views. */
  readonly events = new RunEvents();
  private readonly journal: RunJournal;
  private readonly queue: Pick<RunQueue, 'submit'>;
  private readonly io: ((run: Run) => Promise<RunIo | undefined>) | undefined;
  private readonly debug: boolean;
  private readonly finishedListeners = new Set<(run: Run) => void>();

  constructor(
    private readonly runs: RunStore,
    private readonly engine: FlowEngine,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    options: RunServiceOptions,
  ) {
    this.workerId = options.workerId;
    this.queue = options.queue;
    this.io = options.io;
    this.debug = options.debug ?? false;
    this.journal = new RunJournal(runs, audit, this.workerId, logger);
  }

  get store(): RunStore {
    return this.runs;
  }

  /**
   * Runs a flow now and waits for the outcome. Throws NOT_FOUND for an unknown flow (no run is recorded).
   * The run's record is written when it ends, or earlier if it runs long (see RunJournal).
   */
  async runSync(
    req: RunRequest,
    io?: RunIo,
    parentSignal?: AbortSignal,
    onProgress?: (run: Run) => void,
  ): Promise<Run> {
    const spec = await this.engine.load(req.flow);
    const run = newRun(req, 'running');
    return this.execute(run, spec, io, parentSignal, req.clientIp ?? null, onProgress, {
      stored: false,
      depth: req.depth ?? 0,
    });
  }

  /**
   * Runs a sync call that may be sent again (it carries an Idempotency-Key), under the run id the key
   * holds: its destinations record their commits, so a later execution of the same run writes no step
   * twice. `previous`: the stored record of an earlier execution that did not succeed (failed, or
   * interrupted and failed by crash recovery), executed again as its next attempt; CONFLICT when
   * another call took it first. `recheck`: an earlier execution may have committed without leaving a
   * record (its process was killed), so the destinations are asked first.
   */
  async runSyncAs(
    req: RunRequest,
    io: RunIo,
    as: { id: string; previous?: Run | undefined; recheck: boolean },
  ): Promise<Run> {
    const spec = await this.engine.load(req.flow);
    const run: Run = { ...newRun(req, 'running'), id: as.id };
    const previous = as.previous;
    if (previous) {
      run.attempt = previous.attempt + 1;
      run.createdAt = previous.createdAt;
      const now = new Date().toISOString();
      const taken = await this.runs.setStatus(run.id, 'running', [previous.status], {
        attempt: run.attempt,
        started_at: now,
        heartbeat_at: now,
        finished_at: null,
        error: null,
        worker: null,
      });
      if (!taken) throw new AppError('CONFLICT', `Run '${run.id}' is being executed by another call`);
    }
    return this.execute(run, spec, io, undefined, req.clientIp ?? null, undefined, {
      stored: previous !== undefined,
      commit: { recheck: as.recheck || previous !== undefined },
    });
  }

  /** Records a queued run; a worker executes it. Throws NOT_FOUND for an unknown flow. */
  async enqueue(req: RunRequest): Promise<Run> {
    await this.engine.load(req.flow);
    const run = newRun(req, 'queued');
    await this.runs.insert(run);
    await this.queued(run, req.clientIp ?? null);
    return run;
  }

  /** Audits a run that is stored as queued and wakes a worker. */
  private async queued(run: Run, clientIp: string | null): Promise<void> {
    await this.audit.record(runEvent('flow.run.queued', run, clientIp));
    this.announce(run);
  }

  /**
   * Wakes a worker for a run stored as queued, to start after `delayMs`: by a feature that committed it
   * together with its own rows and audit event (an async listener call: the payload, the run and
   * `listener.called`), by a retry, or by crash recovery. A failed offer is only logged: the run is
   * stored, and the queue finds it again.
   */
  announce(run: Run, delayMs = 0): void {
    this.events.emit('run.queued', run);
    this.queue
      .submit(run, delayMs)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, runId: run.id },
          'offering a queued run to the workers failed; it is re-offered later',
        ),
      );
  }

  /**
   * Executes a run a queue worker claimed. A failure is retried (queued again with exponential backoff)
   * while the flow's `retry.attempts` allow; the returned run is then `queued` with the next attempt.
   */
  executeQueued(run: Run): Promise<Run> {
    // A later attempt may follow one that committed before its process died: its destinations say so.
    return this.execute(run, undefined, undefined, undefined, null, undefined, {
      retry: true,
      commit: { recheck: run.attempt > 1 },
    });
  }

  /**
   * Executes a run marked running: one a worker claimed (stored), or a new one from runSync (`stored:
   * false`, written by the journal).
   */
  private async execute(
    run: Run,
    spec?: FlowSpec,
    io?: RunIo,
    parentSignal?: AbortSignal,
    clientIp: string | null = null,
    onProgress?: (run: Run) => void,
    options: { retry?: boolean; stored?: boolean; depth?: number; commit?: { recheck: boolean } } = {},
  ): Promise<Run> {
    const controller = new AbortController();
    const onParentAbort = () => controller.abort();
    parentSignal?.addEventListener('abort', onParentAbort, { once: true });
    const entry = this.journal.track(run, controller, options.stored ?? true, clientIp);
    this.events.emit('run.started', run);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let loaded: FlowSpec | undefined = spec;
    try {
      const flow = spec ?? (await this.engine.load(run.flow));
      loaded = flow;
      if (!io && this.io) io = await this.io(run);
      if (flow.timeout) {
        timer = setTimeout(() => {
          timedOut = true;
          this.appendLog(entry, {
            at: new Date().toISOString(),
            level: 'error',
            message: `timed out after ${flow.timeout} s`,
          });
          controller.abort(new AppError('RUN_CANCELLED', `Run timed out after ${flow.timeout} seconds`));
        }, flow.timeout * 1000);
      }
      const result = await this.engine.execute(flow, {
        params: run.params,
        signal: controller.signal,
        io,
        commit: options.commit && { runId: run.id, attempt: run.attempt, recheck: options.commit.recheck },
        runId: run.id,
        log: (line) => this.appendLog(entry, line),
        progress: (steps) => {
          run.steps = steps;
          run.rowsRead = steps.reduce((n, s) => n + s.rowsRead, 0);
          run.rowsWritten = steps.reduce((n, s) => n + s.rowsWritten, 0);
          entry.dirty = true;
          onProgress?.(run);
          this.events.emit('run.progress', run);
        },
        runChild: async (flow, params) => {
          // Saving refuses pipelines that reach themselves; this catches one that got into the store
          // another way before its runs nest without end.
          const depth = (options.depth ?? 0) + 1;
          if (depth > MAX_PIPELINE_DEPTH) {
            throw new AppError(
              'PIPELINE_TOO_DEEP',
              `flow '${flow}' would be nested ${depth} pipelines deep; pipelines nest at most ${MAX_PIPELINE_DEPTH} deep (does a pipeline reach itself?)`,
            );
          }
          const child = await this.runSync(
            { flow, params, trigger: 'pipeline', parentId: run.id, requestedBy: run.requestedBy, depth },
            undefined,
            controller.signal,
          ).catch((err: unknown) => ({
            status: 'failed' as const,
            error: errorMessage(err),
            rowsRead: 0,
            rowsWritten: 0,
          }));
          return {
            ok: child.status === 'succeeded',
            error: child.error,
            rowsRead: child.rowsRead,
            rowsWritten: child.rowsWritten,
          };
        },
      });
      run.steps = result.steps;
      run.rowsRead = result.rowsRead;
      run.rowsWritten = result.rowsWritten;
      run.status = timedOut ? 'failed' : controller.signal.aborted ? 'cancelled' : 'succeeded';
      // A timeout that struck after the last step still fails the run: its time was up. Otherwise the
      // run has no error, whatever an earlier attempt of it failed with.
      run.error = timedOut ? `Run timed out after ${loaded.timeout} seconds` : null;
      run.errorCode = timedOut ? 'RUN_CANCELLED' : null;
    } catch (err) {
      // A timeout is a failure (and may be retried); a cancel is not.
      run.status = controller.signal.aborted && !timedOut ? 'cancelled' : 'failed';
      const reason = controller.signal.reason;
      run.error =
        controller.signal.aborted && reason instanceof AppError
          ? reason.message
          : controller.signal.aborted
            ? 'Run was cancelled'
            : errorMessage(err);
      run.errorCode = controller.signal.aborted
        ? reason instanceof AppError
          ? reason.code
          : 'RUN_CANCELLED'
        : err instanceof AppError
          ? err.code
          : 'INTERNAL';
      if (this.debug && err instanceof Error && err.stack)
        this.appendLog(entry, { at: new Date().toISOString(), level: 'error', message: err.stack });
      if (!(err instanceof AppError) && !controller.signal.aborted)
        this.logger.error({ err, runId: run.id }, 'run failed');
    } finally {
      if (timer) clearTimeout(timer);
      parentSignal?.removeEventListener('abort', onParentAbort);
      this.journal.untrack(run.id);
    }
    if (run.status === 'failed' && options.retry && loaded && entry.stored) {
      const delayMs = retryDelayMs(loaded, run.attempt);
      if (delayMs !== undefined) return this.retryLater(run, delayMs);
    }
    run.finishedAt = new Date().toISOString();
    run.durationMs = Math.round(performance.now() - started);
    await this.journal.finish(entry, io?.endEvent?.(run) ?? runEvent('flow.run.finished', run, clientIp));
    this.notifyFinished(run);
    return run;
  }

  /** Queues a failed attempt again; the queue starts it after `delayMs`. */
  private async retryLater(run: Run, delayMs: number): Promise<Run> {
    const error = run.error ?? 'failed';
    run.log.push({
      at: new Date().toISOString(),
      level: 'warn',
      message: `attempt ${run.attempt} failed: ${error}; retrying in ${delayMs / 1000} s`,
    });
    run.status = 'queued';
    run.attempt += 1;
    run.notBefore = new Date(Date.now() + delayMs).toISOString();
    if (!(await this.runs.save(run, ['running'], run.attempt - 1))) return this.get(run.id);
    await this.audit.record({
      action: 'flow.run.retry',
      outcome: 'failure',
      actor: run.requestedBy,
      target: run.flow,
      clientIp: null,
      details: { runId: run.id, attempt: run.attempt, delayMs, error },
    });
    this.announce(run, delayMs);
    return run;
  }

  /** Subscribes to runs reaching a final status in this process; returns the unsubscribe function. */
  onFinished(listener: (run: Run) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /**
   * Audits a run that reached its final status (already stored) and tells the finished listeners
   * (notifications, metrics). Called by execute, and by crash recovery for a run it failed.
   */
  async recordFinished(run: Run, clientIp: string | null = null): Promise<void> {
    await this.audit.record(runEvent('flow.run.finished', run, clientIp));
    this.notifyFinished(run);
  }

  private notifyFinished(run: Run): void {
    this.events.emit('run.finished', run);
    for (const listener of this.finishedListeners) {
      try {
        listener(run);
      } catch (err) {
        this.logger.error({ err, runId: run.id }, 'run finished listener failed');
      }
    }
  }

  /** Marks a worker-claimed run as started in the trail. */
  started(run: Run): void {
    this.audit
      .record(runEvent('flow.run.started', run, null))
      .catch((err: unknown) => this.logger.error({ err }, 'audit of run start failed'));
  }

  private appendLog(entry: ActiveRun, line: LogLine): void {
    entry.run.log.push(line);
    this.events.log(entry.run, line);
    if (entry.run.log.length > MAX_LOG_LINES) entry.run.log.splice(0, entry.run.log.length - MAX_LOG_LINES);
    entry.dirty = true;
  }

  /** A live view of a run: in-process progress when it runs here, the stored record otherwise. */
  async get(id: string): Promise<Run> {
    const live = this.journal.get(id);
    if (live) return live.run;
    const run = await this.runs.get(id);
    if (!run) throw new AppError('NOT_FOUND', `Run '${id}' does not exist`);
    return run;
  }

  /** Stored runs, and the runs executing here that are not stored yet, newest first. */
  async list(filter: RunFilter): Promise<Run[]> {
    const cursor = filter.before === undefined ? undefined : await this.cursorOf(filter.before);
    const stored = await this.runs.list(filter, cursor);
    const here = this.journal.unpublished(filter, cursor);
    if (here.length === 0) return stored;
    const seen = new Set(stored.map((r) => r.id));
    return [...here.filter((r) => !seen.has(r.id)), ...stored]
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .slice(0, Math.min(filter.limit ?? 100, 1000));
  }

  /** The newest run of each flow named, live ones included; a flow that never ran is left out. */
  async latest(flows: string[]): Promise<Run[]> {
    const stored = new Map((await this.runs.latestOf(flows)).map((r) => [r.flow, r]));
    for (const flow of flows) {
      for (const run of this.journal.unpublished({ flow })) {
        const known = stored.get(flow);
        if (!known || known.createdAt < run.createdAt) stored.set(flow, run);
      }
    }
    return flows.flatMap((f) => {
      const run = stored.get(f);
      return run ? [this.journal.get(run.id)?.run ?? run] : [];
    });
  }

  private async cursorOf(id: string): Promise<RunCursor> {
    const live = this.journal.get(id);
    const run = live ? live.run : await this.runs.get(id);
    if (!run) {
      throw new AppError('VALIDATION_FAILED', `before: run '${id}' does not exist`, {
        details: [{ path: '/before', message: `no run '${id}'` }],
      });
    }
    return { createdAt: run.createdAt, id: run.id };
  }

  /**
   * Cancels a queued or running run. A run executing in this process is aborted at once (statements
   * cancelled, transactions rolled back); one running in another process notices within seconds.
   */
  async cancel(id: string): Promise<Run> {
    const live = this.journal.get(id);
    if (live) {
      live.controller.abort();
      return live.run;
    }
    const run = await this.get(id);
    if (run.status === 'queued' || run.status === 'running') {
      await this.runs.setStatus(id, 'cancelled', ['queued', 'running'], {
        finished_at: new Date().toISOString(),
        error: 'Run was cancelled',
      });
    } else {
      throw new AppError('CONFLICT', `Run '${id}' has already finished (${run.status})`);
    }
    const cancelled = await this.get(id);
    // A queued run ends here; a running one of another process ends when that process notices.
    if (run.status === 'queued') this.events.emit('run.finished', cancelled);
    return cancelled;
  }

  /** Whether the run executes in this process. */
  isActive(id: string): boolean {
    return this.journal.get(id) !== undefined;
  }

  activeCount(): number {
    return this.journal.size;
  }

  async stop(): Promise<void> {
    this.journal.stop();
    for (const a of this.journal.entries())
      a.controller.abort(new AppError('RUN_CANCELLED', 'Server is shutting down'));
  }
}
