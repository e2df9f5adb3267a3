import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per app instance (tests build many apps in one process). */
export function createMetrics(): { registry: Registry; requests: Counter; duration: Histogram } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'integrator_' });
  const requests = new Counter({
    name: 'integrator_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'integrator_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return { registry, requests, duration };
}

export type Metrics = ReturnType<typeof createMetrics>;

export function installMetrics(app: FastifyInstance, metrics: Metrics): void {
  // Label children by key: prom-client hashes a label object on every inc/observe, which costs more
  // than the rest of the hook. The route pattern, not the URL, keeps the keys (and labels) bounded.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', async (request, reply) => {
    const method = request.method;
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const timerKey = `${method} ${route}`;
    const counterKey = `${timerKey} ${status}`;
    let counter = counters.get(counterKey);
    if (!counter) {
      counter = metrics.requests.labels({ method, route, status: String(status) });
      counters.set(counterKey, counter);
    }
    let timer = timers.get(timerKey);
    if (!timer) {
      timer = metrics.duration.labels({ method, route });
      timers.set(timerKey, timer);
    }
    counter.inc();
    timer.observe(reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
