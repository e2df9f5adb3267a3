/**
 * Runs the subscriptions of this process: one runner per enabled, unpaused subscription, started,
 * restarted and stopped as definitions change (here, or in another process of the cluster: the store
 * is read again every few seconds) and as they are paused and resumed. Every process that consumes
 * reports its state and counters to the store, so status reads the same from any process.
 */
import type { AuditLog } from '../audit/audit-log.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import type { DefinitionService } from '../definitions/definition-service.js';
import type { RunnerDeps } from './subscription-runner.js';
import { SubscriptionRunner } from './subscription-runner.js';
import type { SubscriptionSpec } from './subscription-schema.js';
import type { SubscriptionStates, WorkerReport } from './subscription-states.js';

/** How often the store is read for changes made elsewhere, and reports are written. */
const REFRESH_MS = 2000;

export interface SubscriptionStatus {
  name: string;
  enabled: boolean;
  paused: boolean;
  pausedBy: string | null;
  /** running, paused, disabled, reconnecting (a process cannot reach the broker), idle (no process consumes it) */
  state: string;
  consumed: number;
  acked: number;
  failed: number;
  deadLettered: number;
  lastError: string | null;
  lastErrorAt: string | null;
  workers: WorkerReport[];
}

export class SubscriptionManager {
  private readonly runners = new Map<string, SubscriptionRunner>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** Reconciliations run one at a time, so two changes cannot start two runners of one subscription. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly definitions: DefinitionService,
    private readonly kind: DefinitionKind<SubscriptionSpec>,
    private readonly states: SubscriptionStates,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly deps: RunnerDeps,
  ) {
    // In every process (api ones too): a deleted subscription's pause flag and reports go with it, so a
    // new one of the same name starts afresh.
    this.definitions.onChange((c) => {
      if (c.kind !== 'subscription' || !c.deleted) return;
      void this.enqueue(async () => {
        await this.stopRunner(c.name, 'deleted');
        await this.states.forget(c.name);
      });
    });
  }

  /** Starts consuming every enabled subscription (processes with role all or worker). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.definitions.onChange((c) => {
      if (!this.started) return;
      if (c.kind === 'subscription' && !c.deleted) this.reconcile([c.name]);
      // A connection changed: the subscriptions on it connect again with its new settings.
      if (c.kind === 'connection') {
        for (const r of this.runners.values())
          if (r.spec.connection === c.name || r.spec.deadLetter?.connection === c.name) this.restart(r.name);
      }
    });
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
    await Promise.all([...this.runners.keys()].map((name) => this.stopRunner(name, 'shutdown')));
  }

  private refresh(): Promise<void> {
    return this.enqueue(async () => {
      const defs = await this.definitions.list('subscription');
      await this.apply(
        new Set([...defs.map((d) => d.name), ...this.runners.keys()]),
        await this.states.paused(),
      );
      await this.report();
    });
  }

  private reconcile(names: string[]): void {
    void this.enqueue(async () => this.apply(new Set(names), await this.states.paused()));
  }

  private restart(name: string): void {
    void this.enqueue(async () => {
      await this.stopRunner(name, 'connection changed');
      await this.apply(new Set([name]), await this.states.paused());
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.logger.warn({ err: errorMessage(err) }, 'subscriptions: reloading failed; trying again shortly');
    });
    return this.chain;
  }

  private async apply(names: Set<string>, paused: Set<string>): Promise<void> {
    for (const name of names) {
      if (!this.started) return;
      const def = await this.definitions.find('subscription', name);
      const runner = this.runners.get(name);
      let spec: SubscriptionSpec | undefined;
      if (def) {
        try {
          spec = await this.kind.validate(def.spec, name);
        } catch (err) {
          this.logger.warn({ subscription: name, err: errorMessage(err) }, 'subscription is not valid');
        }
      }
      const wanted = spec?.enabled === true && !paused.has(name);
      if (runner && (!wanted || runner.version !== def?.version)) {
        await this.stopRunner(
          name,
          !def ? 'deleted' : paused.has(name) ? 'paused' : !wanted ? 'disabled' : 'changed',
        );
      }
      if (wanted && spec && def && !this.runners.has(name)) {
        const r = new SubscriptionRunner(name, def.version, spec, this.deps);
        this.runners.set(name, r);
        r.start();
        await this.lifecycle('subscription.started', name, { version: def.version });
      }
    }
  }

  private async stopRunner(name: string, reason: string): Promise<void> {
    const r = this.runners.get(name);
    if (!r) return;
    this.runners.delete(name);
    await r.stop();
    await this.reportOne(r).catch(() => undefined);
    await this.lifecycle('subscription.stopped', name, { reason });
  }

  private async lifecycle(action: string, name: string, details: Record<string, unknown>): Promise<void> {
    await this.audit
      .record({
        action,
        outcome: 'success',
        actor: 'system',
        target: name,
        details: { ...details, worker: this.deps.workerId },
      })
      .catch((err: unknown) => this.logger.error({ err }, `audit of ${action} failed`));
  }

  private async report(): Promise<void> {
    for (const r of this.runners.values()) await this.reportOne(r);
  }

  private reportOne(r: SubscriptionRunner): Promise<void> {
    return this.states.report(r.name, {
      worker: this.deps.workerId,
      state: r.state,
      consumed: r.consumed,
      acked: r.acked,
      failed: r.failed,
      deadLettered: r.deadLettered,
      lastError: r.lastError,
      lastErrorAt: r.lastErrorAt,
      startedAt: r.startedAt,
      updatedAt: new Date().toISOString(),
    });
  }

  /** The subscription's state and counters over every process consuming it. */
  async status(name: string): Promise<SubscriptionStatus> {
    const def = await this.definitions.get('subscription', name);
    const spec = await this.kind.validate(def.spec, name);
    const pause = await this.states.isPaused(name);
    const here = this.runners.get(name);
    if (here) await this.reportOne(here);
    const workers = await this.states.reports(name);
    const live = workers.filter((w) => w.state !== 'stopped');
    const sum = (f: (w: WorkerReport) => number) => workers.reduce((n, w) => n + f(w), 0);
    const latest = [...workers]
      .filter((w) => w.lastErrorAt)
      .sort((a, b) => (a.lastErrorAt! < b.lastErrorAt! ? 1 : -1))[0];
    const state = !spec.enabled
      ? 'disabled'
      : pause.paused
        ? 'paused'
        : live.some((w) => w.state === 'running')
          ? 'running'
          : live.length > 0
            ? (live[0]?.state ?? 'idle')
            : 'idle';
    return {
      name,
      enabled: spec.enabled,
      paused: pause.paused,
      pausedBy: pause.paused ? pause.by : null,
      state,
      consumed: sum((w) => w.consumed),
      acked: sum((w) => w.acked),
      failed: sum((w) => w.failed),
      deadLettered: sum((w) => w.deadLettered),
      lastError: latest?.lastError ?? null,
      lastErrorAt: latest?.lastErrorAt ?? null,
      workers,
    };
  }

  /** Pauses (or resumes) the subscription in every process; audited with who did it. */
  async setPaused(
    name: string,
    paused: boolean,
    actor: { name: string },
    clientIp: string | null,
  ): Promise<SubscriptionStatus> {
    const def = await this.definitions.find('subscription', name);
    if (!def) throw new AppError('NOT_FOUND', `Subscription '${name}' does not exist`);
    const changed = await this.states.setPaused(name, paused, actor.name);
    if (changed) {
      await this.audit.record({
        action: paused ? 'subscription.paused' : 'subscription.resumed',
        outcome: 'success',
        actor: actor.name,
        target: name,
        clientIp,
      });
    }
    if (this.started) {
      this.reconcile([name]);
      await this.chain;
    }
    return this.status(name);
  }
}
