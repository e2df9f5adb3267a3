import type { Logger } from '../core/logger.js';
import { FINAL_STATUSES, type Run, type RunIo } from '../runs/run-types.js';
import type { Store } from '../store/database.js';
import type { IdempotencyKeys } from './idempotency-keys.js';
import type { ListenerRouter } from './listener-router.js';
import { parseBodyFormat } from './request-body.js';

/**
 * The queue side of async listeners: hands a queued run its stored payload, puts runs a killed process
 * left half-done back in the queue, counts what waits (for 429), removes payloads once their run has
 * finished and the listener's retention has passed, and Idempotency-Keys once their window has.
 */
export class PayloadQueue {
  private queuedAtRefresh = 0;
  private acceptedSinceRefresh = 0;
  private startedSinceRefresh = 0;
  private timer: NodeJS.Timeout | undefined;
  private sweeps = 0;

  constructor(
    private readonly store: Store,
    private readonly router: ListenerRouter,
    private readonly logger: Logger,
    private readonly keys: IdempotencyKeys,
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Listener runs waiting in the queue: the last count, plus what this process accepted and started since. */
  waiting(): number {
    return Math.max(0, this.queuedAtRefresh + this.acceptedSinceRefresh - this.startedSinceRefresh);
  }

  accepted(): void {
    this.acceptedSinceRefresh++;
  }

  /**
   * The recovery policy of listener runs: an accepted payload stays stored until its run finishes, so an
   * interrupted run can safely run again.
   */
  recoveryPolicy(run: Run): 'retry' | undefined {
    return run.trigger === 'listener' ? 'retry' : undefined;
  }

  /** The stored payload of a queued listener run, as the `@request` source. */
  async io(run: Run): Promise<RunIo | undefined> {
    if (run.trigger !== 'listener') return undefined;
    this.startedSinceRefresh++;
    const row = await this.store.db
      .selectFrom('listener_payloads')
      .select(['message_id', 'format', 'body'])
      .where('run_id', '=', run.id)
      .executeTakeFirst();
    if (!row) return undefined;
    const format = parseBodyFormat(row.format);
    const body = row.body;
    return {
      request: {
        // Re-readable: every step of the flow that reads `@request` iterates the stored body afresh.
        body: {
          async *[Symbol.asyncIterator]() {
            yield body;
          },
        },
        format,
        source: `payload ${row.message_id}`,
      },
    };
  }

  private async refresh(): Promise<void> {
    // Calls counted before the count is read are in it; those counted while it is read stay counted.
    const accepted = this.acceptedSinceRefresh;
    const started = this.startedSinceRefresh;
    try {
      const row = await this.store.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'queued')
        .where('trigger', '=', 'listener')
        .executeTakeFirst();
      this.queuedAtRefresh = Number(row?.n ?? 0);
      this.acceptedSinceRefresh -= accepted;
      this.startedSinceRefresh -= started;
      if (++this.sweeps % 20 === 0) {
        await this.sweep();
        await this.keys.sweep();
      }
    } catch (err) {
      this.logger.warn({ err }, 'listener queue refresh failed');
    }
  }

  /** Deletes payloads whose run finished longer ago than the listener keeps them. */
  async sweep(): Promise<number> {
    const retention = new Map((await this.router.all()).map((l) => [l.name, l.spec.retainPayloadDays]));
    const listeners = await this.store.db
      .selectFrom('listener_payloads')
      .select('listener')
      .distinct()
      .execute();
    let deleted = 0;
    for (const { listener } of listeners) {
      const days = retention.get(listener) ?? 0;
      const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
      const res = await this.store.db
        .deleteFrom('listener_payloads')
        .where('listener', '=', listener)
        .where('run_id', 'in', (eb) =>
          eb
            .selectFrom('runs')
            .select('id')
            .where('status', 'in', [...FINAL_STATUSES])
            .where('finished_at', '<=', cutoff),
        )
        .executeTakeFirst();
      deleted += Number(res.numDeletedRows);
    }
    return deleted;
  }
}
