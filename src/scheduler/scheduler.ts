import type { Cron } from 'croner';
import type { AuditLog } from '../audit/audit-log.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DefinitionService } from '../definitions/definition-service.js';
import type { RunService } from '../runs/run-service.js';
import { compileCron, dueTimes, lastTimeBetween } from './cron.js';
import type { ScheduleFires } from './schedule-fires.js';
import { scheduleKind } from './schedule-kind.js';
import type { ScheduleSpec } from './schedule-schema.js';

/** Longest sleep between two looks at the clock, so a changed clock or a late timer costs little. */
const MAX_SLEEP_MS = 10_000;
/** How often schedules changed by other processes are read again. */
const REFRESH_MS = 10_000;
/** Ticks fired at most per schedule in one wake-up (the process was busy or asleep). */
const MAX_CATCH_UP = 10;
/** Days of fired ticks kept for the record. */
const KEEP_DAYS = 7;

interface Entry {
  name: string;
  spec: ScheduleSpec;
  version: number;
  cron: Cron;
  /** Ticks up to this time are dealt with. */
  cursor: Date;
}

/**
 * Fires schedules: wakes at the next tick of any schedule, claims each due tick in the store (so a tick
 * fires once however many schedulers run) and queues the flow's run according to the overlap policy.
 * On start, a schedule with `missed: run-once` whose last fired tick is older than its latest due tick
 * fires that tick once.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private stopped = true;
  private lastPrune = 0;

  constructor(
    private readonly definitions: DefinitionService,
    private readonly fires: ScheduleFires,
    private readonly runs: RunService,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.definitions.onChange((c) => {
      if (c.kind === 'schedule' && !this.stopped) void this.reload();
    });
    await this.reload();
    this.refresher = setInterval(() => void this.reload(), REFRESH_MS);
    this.refresher.unref();
  }

  /** Reads the schedules again; a new or changed one starts from now (or makes up a missed tick). */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(
      () => this.doReload(),
      () => this.doReload(),
    );
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    if (this.stopped) return;
    try {
      const defs = await this.definitions.list('schedule');
      const seen = new Set<string>();
      for (const d of defs) {
        seen.add(d.name);
        if (this.entries.get(d.name)?.version === d.version) continue;
        const spec = await scheduleKind.validate(d.spec, d.name);
        const entry: Entry = {
          name: d.name,
          spec,
          version: d.version,
          cron: compileCron(spec.cron, spec.timezone ?? 'UTC'),
          cursor: new Date(),
        };
        this.entries.set(d.name, entry);
        if (spec.enabled !== false && spec.missed === 'run-once') await this.makeUpMissed(entry, d.updatedAt);
      }
      for (const name of this.entries.keys()) if (!seen.has(name)) this.entries.delete(name);
      if (Date.now() - this.lastPrune > 3_600_000) {
        this.lastPrune = Date.now();
        await this.fires.prune(KEEP_DAYS);
      }
    } catch (err) {
      this.logger.error({ err }, 'reading schedules failed');
    }
    this.arm();
  }

  private async makeUpMissed(entry: Entry, updatedAt: string): Promise<void> {
    const lastFired = await this.fires.last(entry.name);
    const changed = new Date(updatedAt);
    const since = lastFired && lastFired > changed ? lastFired : changed;
    const missed = lastTimeBetween(entry.cron, since, entry.cursor);
    if (missed) await this.fire(entry, missed, true);
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped) return;
    let next = Date.now() + MAX_SLEEP_MS;
    for (const e of this.entries.values()) {
      if (e.spec.enabled === false) continue;
      const t = e.cron.nextRun(e.cursor);
      if (t && t.getTime() < next) next = t.getTime();
    }
    // A few milliseconds late rather than early: a timer may fire a little before its time.
    this.timer = setTimeout(() => void this.tick(), Math.max(0, next - Date.now() + 5));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const now = new Date();
    for (const e of this.entries.values()) {
      if (e.spec.enabled === false) {
        e.cursor = now;
        continue;
      }
      for (const t of dueTimes(e.cron, e.cursor, now, MAX_CATCH_UP)) await this.fire(e, t, false);
      e.cursor = now;
    }
    this.arm();
  }

  /** Claims the tick and queues the run; another scheduler that claimed it first makes this a no-op. */
  private async fire(e: Entry, tick: Date, missed: boolean): Promise<void> {
    const { name, spec } = e;
    try {
      // Another process may have changed or deleted the schedule since this one last read it.
      const current = await this.definitions.find('schedule', name);
      if (current?.version !== e.version) {
        void this.reload();
        return;
      }
      if (!(await this.fires.claim(name, tick))) return;
    } catch (err) {
      this.logger.error({ err, schedule: name }, 'claiming a schedule tick failed');
      return;
    }
    try {
      if (spec.overlap !== 'queue' && spec.overlap !== 'allow' && (await this.fires.hasActiveRun(name))) {
        await this.fires.settle(name, tick, 'skipped');
        await this.audit.record({
          action: 'schedule.skipped',
          outcome: 'success',
          actor: `schedule:${name}`,
          target: name,
          clientIp: null,
          details: { tick: tick.toISOString(), reason: 'an earlier run is still queued or running' },
        });
        return;
      }
      const run = await this.runs.enqueue({
        flow: spec.flow,
        params: spec.parameters ?? {},
        trigger: 'schedule',
        requestedBy: `schedule:${name}`,
        schedule: name,
        lane: spec.overlap === 'queue' ? `schedule:${name}` : null,
      });
      await this.fires.settle(name, tick, 'queued', run.id);
      this.logger.info({ schedule: name, tick, runId: run.id, missed }, 'schedule fired');
    } catch (err) {
      const error = errorMessage(err);
      await this.fires.settle(name, tick, 'failed', null, error).catch(() => undefined);
      await this.audit.record({
        action: 'schedule.fire',
        outcome: 'failure',
        actor: `schedule:${name}`,
        target: name,
        clientIp: null,
        details: { tick: tick.toISOString(), error },
      });
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.refresher) clearInterval(this.refresher);
  }
}
