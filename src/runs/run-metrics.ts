import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunService } from './run-service.js';
import type { RunStats } from './run-stats.js';

/** Scrapes within this many milliseconds share one read of the store. */
const CACHE_MS = 1000;

/**
 * Queue and run metrics on a Prometheus registry. Counts by status come from the store, so every
 * process (api or worker) reports the cluster's queue; finished-run counters and the duration and
 * start-latency histograms count the runs this process executed. Returns the unsubscribe function.
 */
export function registerRunMetrics(
  registry: Registry,
  runs: RunService,
  stats: () => Promise<RunStats>,
): () => void {
  let cached: { at: number; value: Promise<RunStats> } | undefined;
  const current = (): Promise<RunStats> => {
    if (!cached || Date.now() - cached.at > CACHE_MS) cached = { at: Date.now(), value: stats() };
    return cached.value;
  };
  new Gauge({
    name: 'integrator_queue_depth',
    help: 'Queued runs ready to start (the whole cluster)',
    registers: [registry],
    async collect() {
      this.set((await current()).queued);
    },
  });
  new Gauge({
    name: 'integrator_queue_delayed',
    help: 'Queued runs waiting for a retry backoff (the whole cluster)',
    registers: [registry],
    async collect() {
      this.set((await current()).delayed);
    },
  });
  new Gauge({
    name: 'integrator_runs',
    help: 'Runs in the store by status (the whole cluster)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const s = await current();
      for (const status of ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const) {
        this.set({ status }, status === 'queued' ? s.queued + s.delayed : s[status]);
      }
    },
  });
  const finished = new Counter({
    name: 'integrator_runs_finished_total',
    help: 'Runs this process finished, by status',
    labelNames: ['status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'integrator_run_duration_seconds',
    help: 'Duration of runs this process finished, by status',
    labelNames: ['status'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'integrator_run_start_latency_seconds',
    help: 'Time from a run being queued to a worker of this process starting it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
    registers: [registry],
  });
  return runs.onFinished((run) => {
    finished.inc({ status: run.status });
    if (run.durationMs !== null) duration.observe({ status: run.status }, run.durationMs / 1000);
    if (run.startedAt && run.startedAt !== run.createdAt && run.attempt === 1)
      latency.observe(Math.max(0, Date.parse(run.startedAt) - Date.parse(run.createdAt)) / 1000);
  });
}
