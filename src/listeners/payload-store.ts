import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { RunService } from '../runs/run-service.js';
import type { Run, RunRequest } from '../runs/run-types.js';
import type { Store } from '../store/database.js';
import type { BodyFormat } from './request-body.js';

/** What an async listener answers with 202, and again for a repeated Idempotency-Key. */
export interface Receipt {
  status: 'received';
  messageId: string;
  runId: string;
  /** True when an earlier call with the same Idempotency-Key was accepted already. */
  duplicate?: boolean;
}

export interface Payload {
  listener: string;
  idempotencyKey: string | undefined;
  format: BodyFormat;
  body: Uint8Array;
  run: RunRequest;
}

interface Pending {
  payload: Payload;
  resolve: (receipt: Receipt) => void;
  reject: (err: unknown) => void;
}

/**
 * Durable intake of async listener payloads. `accept()` resolves only after the payload and its queued
 * run are committed together, so a 202 never promises what a crash could lose. Payloads that arrive
 * while a commit is in flight go into the next one (group commit): one transaction per burst, not per
 * call. A repeated Idempotency-Key returns the first call's receipt and stores nothing.
 */
export class PayloadStore {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly logger: Logger,
  ) {}

  accept(payload: Payload): Promise<Receipt> {
    return new Promise<Receipt>((resolve, reject) => {
      this.pending.push({ payload, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.commit(batch);
        } catch (err) {
          // One bad item (a key another process took a moment ago) must not fail its neighbours.
          if (batch.length === 1) {
            batch[0]?.reject(err);
            continue;
          }
          this.logger.warn({ err, payloads: batch.length }, 'payload batch failed; committing one by one');
          for (const item of batch) await this.commit([item]).catch((e: unknown) => item.reject(e));
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const now = new Date().toISOString();
    const settled: { item: Pending; receipt: Receipt; run?: Run }[] = [];
    await this.store.db.transaction().execute(async (trx) => {
      settled.length = 0;
      const known = new Map<string, Receipt>();
      const keyed = batch.filter((p) => p.payload.idempotencyKey !== undefined);
      for (const listener of new Set(keyed.map((p) => p.payload.listener))) {
        const keys = keyed
          .filter((p) => p.payload.listener === listener)
          .map((p) => p.payload.idempotencyKey ?? '');
        const found = await trx
          .selectFrom('listener_payloads')
          .select(['message_id', 'run_id', 'idempotency_key'])
          .where('listener', '=', listener)
          .where('idempotency_key', 'in', keys)
          .execute();
        for (const f of found)
          known.set(`${listener}\n${f.idempotency_key}`, {
            status: 'received',
            messageId: f.message_id,
            runId: f.run_id,
            duplicate: true,
          });
      }
      const runRows = [];
      const payloadRows = [];
      for (const item of batch) {
        const p = item.payload;
        const key = p.idempotencyKey === undefined ? undefined : `${p.listener}\n${p.idempotencyKey}`;
        const seen = key === undefined ? undefined : known.get(key);
        if (seen) {
          settled.push({ item, receipt: { ...seen, duplicate: true } });
          continue;
        }
        const run = this.runs.newRun(p.run, 'queued');
        const receipt: Receipt = { status: 'received', messageId: randomUUID(), runId: run.id };
        if (key !== undefined) known.set(key, receipt);
        runRows.push(this.runs.store.toRow(run, null));
        payloadRows.push({
          message_id: receipt.messageId,
          listener: p.listener,
          run_id: run.id,
          idempotency_key: p.idempotencyKey ?? null,
          format: JSON.stringify(p.format),
          body: p.body,
          received_at: now,
        });
        settled.push({ item, receipt, run });
      }
      // Kept under SQLite's limit on bound variables per statement.
      for (let i = 0; i < runRows.length; i += 200) {
        await trx
          .insertInto('runs')
          .values(runRows.slice(i, i + 200))
          .execute();
        await trx
          .insertInto('listener_payloads')
          .values(payloadRows.slice(i, i + 200))
          .execute();
      }
    });
    for (const s of settled) {
      if (s.run) {
        const clientIp = s.item.payload.run.clientIp ?? null;
        void this.runs
          .queued(s.run, clientIp)
          .catch((err: unknown) => this.logger.error({ err }, 'audit failed'));
      }
      s.item.resolve(s.receipt);
    }
  }
}
