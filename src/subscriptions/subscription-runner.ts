/**
 * One subscription consumed in this process: a consumer of its broker connection, `concurrency`
 * loops that each take a batch, run the flow on it (a run with trigger `subscription`) and ack the
 * batch only when the run succeeded, that is when its destinations committed. A failed message is
 * given back with backoff; after `maxAttempts` it goes to the dead-letter target and is acked then.
 * A lost connection (or one that cannot be opened) is opened again with backoff; the broker keeps
 * every message not acked, so nothing is lost.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { ConnectorPool } from '../connections/connector-pool.js';
import type { Delivery, MessageConsumer } from '../connectors/brokers/message-consumer.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Row } from '../core/records.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { RunService } from '../runs/run-service.js';
import { type Attempt, writeDeadLetter } from './dead-letter.js';
import { MessageReader } from './message-records.js';
import type { SubscriptionSpec } from './subscription-schema.js';

export type RunnerState = 'connecting' | 'running' | 'reconnecting' | 'stopped';

export interface RunnerDeps {
  pool: ConnectorPool;
  runs: RunService;
  formats: FormatRegistry;
  audit: AuditLog;
  logger: Logger;
  workerId: string;
}

/** The longest wait between two attempts to open a lost connection. */
const RECONNECT_MAX_MS = 15_000;
/** Attempt histories kept at most (of messages given back and not yet seen again). */
const MAX_HISTORIES = 100_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class SubscriptionRunner {
  state: RunnerState = 'connecting';
  consumed = 0;
  acked = 0;
  failed = 0;
  deadLettered = 0;
  lastError: string | null = null;
  lastErrorAt: string | null = null;
  readonly startedAt = new Date().toISOString();
  /** Failed attempts by message id (a message's history travels with it to the dead-letter target). */
  private readonly attempts = new Map<string, Attempt[]>();
  private readonly stopping = new AbortController();
  private readonly reader: MessageReader;
  private loop: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly spec: SubscriptionSpec,
    private readonly deps: RunnerDeps,
  ) {
    this.reader = new MessageReader(deps.formats, spec);
  }

  start(): void {
    this.loop = this.consumeLoop().catch((err: unknown) => {
      // Not expected: every failure inside is handled; logged so it is never silent.
      this.deps.logger.error({ err, subscription: this.name }, 'subscription loop ended');
    });
  }

  /** Stops taking messages, lets the batches in flight finish, and closes the consumer. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.state = 'stopped';
  }

  private noteError(err: unknown): void {
    this.lastError = errorMessage(err);
    this.lastErrorAt = new Date().toISOString();
  }

  private async consumeLoop(): Promise<void> {
    let failures = 0;
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      let consumer: MessageConsumer | undefined;
      try {
        const connector = await this.deps.pool.get(this.spec.connection);
        if (!connector.consume)
          throw new AppError(
            'BAD_REQUEST',
            `connection '${this.spec.connection}' (${connector.type}) cannot be subscribed to`,
          );
        consumer = await connector.consume({
          ...(this.spec.queue !== undefined ? { queue: this.spec.queue } : {}),
          ...(this.spec.stream !== undefined ? { stream: this.spec.stream } : {}),
          ...(this.spec.subject !== undefined ? { subject: this.spec.subject } : {}),
          ...(this.spec.topic !== undefined ? { topic: this.spec.topic } : {}),
          consumer: this.spec.consumer ?? this.name,
          group: this.spec.group ?? this.name,
          // Room for the next batch of each loop: it arrives while the current one commits.
          maxUnacked: 2 * this.spec.batchSize * this.spec.concurrency,
          ackWait: this.spec.ackWait,
          consumerName: `${this.deps.workerId}:${this.name}`,
        });
        if (failures > 0) this.deps.logger.info({ subscription: this.name }, 'subscription connected again');
        failures = 0;
        this.state = 'running';
        await this.work(consumer);
      } catch (err) {
        failures++;
        this.noteError(err);
        if (!stop.aborted) {
          this.state = 'reconnecting';
          this.deps.logger.warn(
            { subscription: this.name, err: errorMessage(err) },
            'subscription lost its connection; connecting again',
          );
        }
      } finally {
        await consumer?.close().catch(() => undefined);
      }
      if (!stop.aborted) await sleep(Math.min(RECONNECT_MAX_MS, 250 * 2 ** Math.min(failures, 6)), stop);
    }
  }

  /** The batch loops on one consumer; the first failure (a lost connection) ends them all. */
  private async work(consumer: MessageConsumer): Promise<void> {
    const session = new AbortController();
    const signal = AbortSignal.any([this.stopping.signal, session.signal]);
    let failure: unknown;
    const one = async () => {
      try {
        while (!signal.aborted) {
          const batch = await consumer.receive(this.spec.batchSize, this.spec.linger * 1000, signal);
          if (batch.length > 0) await this.process(batch);
        }
      } catch (err) {
        failure ??= err;
        session.abort();
      }
    };
    await Promise.all(Array.from({ length: this.spec.concurrency }, one));
    if (failure !== undefined) throw failure;
  }

  private async process(batch: Delivery[]): Promise<void> {
    this.consumed += batch.length;
    const rows: Row[] = [];
    const keys: string[] = [];
    const taken: Delivery[] = [];
    for (const d of batch) {
      try {
        const read = await this.reader.read(d.message, this.stopping.signal);
        for (const r of read.rows) {
          rows.push(r);
          keys.push(read.key ?? '');
        }
        taken.push(d);
      } catch (err) {
        // A body that does not parse never will: it goes to the dead-letter target at once.
        this.failed++;
        this.noteError(err);
        await this.giveUp(d, this.record(d, errorMessage(err), null));
      }
    }
    if (taken.length === 0) return;
    let runId: string | null = null;
    let error: string;
    try {
      const run = await this.deps.runs.runSync(
        { flow: this.spec.flow, trigger: 'subscription', requestedBy: `subscription:${this.name}` },
        { messages: { rows, ...(this.spec.dedupe ? { dedupe: { scope: this.name, keys } } : {}) } },
        this.stopping.signal,
      );
      runId = run.id;
      if (run.status === 'succeeded') {
        await this.ackAll(taken);
        return;
      }
      // Stopping: the consumer closes next, and the broker has the messages back.
      if (run.status === 'cancelled' && this.stopping.signal.aborted) return;
      error = run.error ?? run.status;
    } catch (err) {
      error = errorMessage(err);
    }
    this.failed += taken.length;
    this.lastError = error;
    this.lastErrorAt = new Date().toISOString();
    for (const d of taken) {
      const history = this.record(d, error, runId);
      const attempt = Math.max(history.length, d.message.redeliveries + 1);
      if (attempt >= this.spec.maxAttempts && this.spec.deadLetter) await this.giveUp(d, history);
      else await this.retry(d, attempt);
    }
  }

  /**
   * Acks a committed batch, every message at once (a broker that confirms acks, JetStream, gets them in
   * one write and answers them together). An ack that cannot reach the broker leaves the message to be
   * redelivered.
   */
  private async ackAll(batch: Delivery[]): Promise<void> {
    const settled = await Promise.allSettled(batch.map((d) => d.ack()));
    batch.forEach((d, i) => {
      const s = settled[i];
      if (s?.status === 'fulfilled') {
        this.acked++;
        this.attempts.delete(d.message.id);
      } else if (s) this.noteError(s.reason);
    });
  }

  private record(d: Delivery, error: string, runId: string | null): Attempt[] {
    const id = d.message.id;
    const history = this.attempts.get(id) ?? [];
    history.push({ at: new Date().toISOString(), error, runId });
    this.attempts.delete(id);
    this.attempts.set(id, history);
    if (this.attempts.size > MAX_HISTORIES) {
      const oldest = this.attempts.keys().next().value;
      if (oldest !== undefined) this.attempts.delete(oldest);
    }
    return history;
  }

  private backoffMs(attempt: number): number {
    const b = this.spec.backoff;
    return Math.round(Math.min(b.max, b.delay * b.factor ** Math.max(0, attempt - 1)) * 1000);
  }

  private async retry(d: Delivery, attempt: number): Promise<void> {
    try {
      await d.retry(this.backoffMs(attempt));
    } catch (err) {
      this.noteError(err);
    }
  }

  /**
   * Sends a message that will not succeed to the dead-letter target, then acks it. Without a target, or
   * when writing there fails, the message stays with the broker and is tried again later.
   */
  private async giveUp(d: Delivery, history: Attempt[]): Promise<void> {
    const target = this.spec.deadLetter;
    if (!target) return this.retry(d, this.spec.maxAttempts);
    try {
      await writeDeadLetter(this.deps.pool, this.name, target, d.message, history, this.stopping.signal);
    } catch (err) {
      this.noteError(err);
      return this.retry(d, history.length);
    }
    this.deadLettered++;
    this.attempts.delete(d.message.id);
    await this.deps.audit
      .record({
        action: 'subscription.dead_lettered',
        outcome: 'failure',
        actor: `subscription:${this.name}`,
        target: this.name,
        details: {
          messageId: d.message.id,
          attempts: history.length,
          error: history.at(-1)?.error ?? null,
          deadLetter: target.connection,
        },
      })
      .catch((err: unknown) => this.deps.logger.error({ err }, 'audit of a dead letter failed'));
    try {
      await d.ack();
    } catch (err) {
      // Written to the dead-letter target and not acked: it may be dead-lettered twice, never lost.
      this.noteError(err);
    }
  }
}
