import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DefinitionService } from '../definitions/definition-service.js';
import type { RunService } from '../runs/run-service.js';
import type { Run } from '../runs/run-types.js';
import { webhookKind } from './webhook-kind.js';
import type { WebhookEvent, WebhookSpec } from './webhook-schema.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

/** How long the list of webhooks is trusted before it is read again (another process may change it). */
const TTL_MS = 5000;

interface Hook {
  name: string;
  spec: WebhookSpec;
}

function eventOf(run: Run): WebhookEvent | undefined {
  if (run.status === 'succeeded') return 'run.succeeded';
  if (run.status === 'failed') return 'run.failed';
  if (run.status === 'cancelled') return 'run.cancelled';
  return undefined;
}

/** What a receiver gets: the event and the run's outcome (not its log or parameters' secrets). */
export function webhookBody(event: WebhookEvent, deliveryId: string, run: Run): string {
  return JSON.stringify({
    event,
    deliveryId,
    run: {
      id: run.id,
      flow: run.flow,
      status: run.status,
      trigger: run.trigger,
      schedule: run.schedule ?? null,
      attempt: run.attempt,
      params: run.params,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      durationMs: run.durationMs,
      rowsRead: run.rowsRead,
      rowsWritten: run.rowsWritten,
      error: run.error,
    },
  });
}

/**
 * Sends run notifications: when a run of this process finishes, every enabled webhook that wants the
 * event (and the flow) gets a signed POST, retried with exponential backoff until it answers 2xx or
 * its attempts are used up. Each delivery's outcome is audited (`webhook.delivered` or `webhook.failed`).
 * Deliveries are kept in memory: ones still being retried when the process stops are lost.
 */
export class WebhookNotifier {
  private cache: { at: number; hooks: Promise<Hook[]> } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly definitions: DefinitionService,
    private readonly runs: RunService,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {
    definitions.onChange((c) => {
      if (c.kind === 'webhook') this.cache = undefined;
    });
  }

  start(): void {
    this.unsubscribe = this.runs.onFinished((run) => void this.notify(run));
  }

  private hooks(): Promise<Hook[]> {
    if (!this.cache || Date.now() - this.cache.at > TTL_MS) {
      const load = async () => {
        const defs = await this.definitions.list('webhook');
        const out: Hook[] = [];
        for (const d of defs) {
          const full = await this.definitions.resolve('webhook', d.name);
          out.push({ name: d.name, spec: await webhookKind.validate(full.spec, d.name) });
        }
        return out;
      };
      this.cache = { at: Date.now(), hooks: load() };
    }
    return this.cache.hooks;
  }

  private async notify(run: Run): Promise<void> {
    const event = eventOf(run);
    if (!event || run.trigger === 'pipeline') return;
    try {
      for (const hook of await this.hooks()) {
        const s = hook.spec;
        if (s.enabled === false) continue;
        if (!(s.events ?? ['run.succeeded', 'run.failed']).includes(event)) continue;
        if (s.flows && !s.flows.includes(run.flow)) continue;
        const deliveryId = randomUUID();
        void this.deliver(hook, event, deliveryId, webhookBody(event, deliveryId, run), run, 1);
      }
    } catch (err) {
      this.logger.error({ err, runId: run.id }, 'reading webhooks failed');
    }
  }

  private async deliver(
    hook: Hook,
    event: WebhookEvent,
    deliveryId: string,
    body: string,
    run: Run,
    attempt: number,
  ): Promise<void> {
    if (this.stopped) return;
    const { spec } = hook;
    const attempts = spec.retry?.attempts ?? 5;
    let failure: string;
    try {
      const res = await fetch(spec.url, {
        method: 'POST',
        headers: {
          ...spec.headers,
          'content-type': 'application/json',
          'user-agent': 'Integrator-Webhook/1',
          'x-integrator-event': event,
          'x-integrator-delivery': deliveryId,
          [SIGNATURE_HEADER]: signWebhook(spec.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        signal: AbortSignal.timeout((spec.timeout ?? 10) * 1000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        await this.record(hook, 'webhook.delivered', 'success', run, {
          event,
          deliveryId,
          attempt,
          status: res.status,
        });
        return;
      }
      failure = `HTTP ${res.status}`;
    } catch (err) {
      failure = errorMessage(err);
    }
    if (attempt < attempts) {
      const delayMs = (spec.retry?.delay ?? 2) * 1000 * 2 ** (attempt - 1);
      const t = setTimeout(() => {
        this.timers.delete(t);
        void this.deliver(hook, event, deliveryId, body, run, attempt + 1);
      }, delayMs);
      t.unref();
      this.timers.add(t);
      return;
    }
    await this.record(hook, 'webhook.failed', 'failure', run, {
      event,
      deliveryId,
      attempts: attempt,
      error: failure,
    });
  }

  private async record(
    hook: Hook,
    action: string,
    outcome: 'success' | 'failure',
    run: Run,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.audit
      .record({
        action,
        outcome,
        actor: 'system',
        target: hook.name,
        clientIp: null,
        details: { runId: run.id, flow: run.flow, ...details },
      })
      .catch((err: unknown) => this.logger.error({ err }, 'audit of a webhook delivery failed'));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
