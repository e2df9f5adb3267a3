/**
 * What happens to runs in this process, as events for live views (the events stream of the API and the
 * console): a run queued, started, making progress, logging, finished. Subscribers are called
 * synchronously and must not throw; a slow consumer is its own business (see events-routes.ts).
 */
import type { LogLine } from '../flows/engine-types.js';
import type { Run } from './run-types.js';

export type RunEventType = 'run.queued' | 'run.started' | 'run.progress' | 'run.log' | 'run.finished';

export const RUN_EVENT_TYPES: readonly RunEventType[] = [
  'run.queued',
  'run.started',
  'run.progress',
  'run.log',
  'run.finished',
];

/** The part of a run an event carries: everything but its parameters and log. */
export type RunSummary = Omit<Run, 'params' | 'log'>;

export type RunEvent =
  | { type: Exclude<RunEventType, 'run.log'>; run: RunSummary }
  | { type: 'run.log'; runId: string; flow: string; line: LogLine };

export function summary(run: Run): RunSummary {
  const { params: _p, log: _l, ...rest } = run;
  return { ...rest, steps: run.steps.map((s) => ({ ...s })) };
}

export class RunEvents {
  private readonly subscribers = new Set<(event: RunEvent) => void>();
  /** When each running run last sent progress, so a fast run sends a few events a second, not one a batch. */
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly progressIntervalMs = 250) {}

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  emit(type: Exclude<RunEventType, 'run.log'>, run: Run): void {
    if (type === 'run.finished') this.lastProgress.delete(run.id);
    if (this.subscribers.size === 0) return;
    if (type === 'run.progress') {
      const now = Date.now();
      if (now - (this.lastProgress.get(run.id) ?? 0) < this.progressIntervalMs) return;
      this.lastProgress.set(run.id, now);
    }
    this.send({ type, run: summary(run) });
  }

  log(run: Run, line: LogLine): void {
    if (this.subscribers.size === 0) return;
    this.send({ type: 'run.log', runId: run.id, flow: run.flow, line });
  }

  private send(event: RunEvent): void {
    for (const s of this.subscribers) s(event);
  }
}
