import { randomUUID } from 'node:crypto';
import { GroupCommit } from '../core/group-commit.js';
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

/**
 * Durable intake of async listener payloads. `accept()` resolves only after the payload and its queued
 * run are committed together, so a 202 never promises what a crash could lose. Payloads that arrive
 * while a commit is in flight go into the next one (group commit): one transaction per burst, not per
 * call. A repeated Idempotency-Key returns the first call's receipt and stores nothing.
 */
export class PayloadStore {
  private readonly group: GroupCommit<Payload, Receipt>;

  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly logger: Logger,
  ) {
    // One bad item (a key another process took a moment ago) must not fail its neighbours.
    this.group = new GroupCommit((batch) => this.commit(batch), {
      onFailure: 'each',
      report: (err, size) => {
        if (size > 1) logger.warn({ err, payloads: size }, 'payload batch failed; committing one by one');
      },
    });
  }

  accept(payload: Payload): Promise<Receipt> {
    return this.group.submit(payload);
  }

  drain(): Promise<void> {
    return this.group.drain();
  }

  private async commit(batch: Payload[]): Promise<Receipt[]> {
    const now = new Date().toISOString();
    const settled: { payload: Payload; receipt: Receipt; run?: Run }[] = [];
    await this.store.db.transaction().execute(async (trx) => {
      settled.length = 0;
      const known = new Map<string, Receipt>();
      const keyed = batch.filter((p) => p.idempotencyKey !== undefined);
      for (const listener of new Set(keyed.map((p) => p.listener))) {
        const keys = keyed.filter((p) => p.listener === listener).map((p) => p.idempotencyKey ?? '');
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
      for (const p of batch) {
        const key = p.idempotencyKey === undefined ? undefined : `${p.listener}\n${p.idempotencyKey}`;
        const seen = key === undefined ? undefined : known.get(key);
        if (seen) {
          settled.push({ payload: p, receipt: { ...seen, duplicate: true } });
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
        settled.push({ payload: p, receipt, run });
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
      if (!s.run) continue;
      void this.runs
        .queued(s.run, s.payload.run.clientIp ?? null)
        .catch((err: unknown) => this.logger.error({ err }, 'audit failed'));
    }
    return settled.map((s) => s.receipt);
  }
}
