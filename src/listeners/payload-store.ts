import { randomUUID } from 'node:crypto';
import { AppError, conflict } from '../core/errors.js';
import { GroupCommit } from '../core/group-commit.js';
import type { Logger } from '../core/logger.js';
import { newRun } from '../runs/run-records.js';
import type { RunService } from '../runs/run-service.js';
import { RUN_COLUMNS } from '../runs/run-store.js';
import type { RawParams, Run, RunRequest } from '../runs/run-types.js';
import { insertRows } from '../store/bulk-insert.js';
import type { Store } from '../store/database.js';
import { type BodyFormat, parseBodyFormat } from './request-body.js';

const PAYLOAD_COLUMNS = [
  'message_id',
  'listener',
  'run_id',
  'idempotency_key',
  'format',
  'body',
  'received_at',
] as const;

/** What an async listener answers with 202, and again for a repeated Idempotency-Key. */
export interface Receipt {
  status: 'received';
  messageId: string;
  runId: string;
  /** True when an earlier call with the same Idempotency-Key was accepted already. */
  duplicate?: boolean;
}

/** What the payloads list shows of a kept payload (never its body). */
export interface KeptPayload {
  messageId: string;
  runId: string;
  idempotencyKey: string | null;
  format: string;
  bytes: number;
  receivedAt: string;
  runStatus: string | null;
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

  /** The payloads a listener still keeps (see retainPayloadDays), newest first, without their bodies. */
  async list(listener: string, limit: number): Promise<KeptPayload[]> {
    const rows = await this.store.db
      .selectFrom('listener_payloads as p')
      .leftJoin('runs as r', 'r.id', 'p.run_id')
      .select([
        'p.message_id',
        'p.run_id',
        'p.idempotency_key',
        'p.format',
        'p.received_at',
        'r.status',
        (eb) => eb.fn('length', ['p.body']).as('bytes'),
      ])
      .where('p.listener', '=', listener)
      .orderBy('p.received_at', 'desc')
      .orderBy('p.message_id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      messageId: r.message_id,
      runId: r.run_id,
      idempotencyKey: r.idempotency_key,
      format: parseBodyFormat(r.format).type,
      bytes: Number(r.bytes),
      receivedAt: r.received_at,
      runStatus: r.status ?? null,
    }));
  }

  /**
   * Accepts a kept payload again as a new message with a new queued run, with the parameters of the
   * original call. NOT_FOUND when the payload is no longer kept; CONFLICT while its first run has not
   * finished (it is still going to run).
   */
  async replay(listener: string, messageId: string, flow: string, requestedBy: string): Promise<Receipt> {
    const row = await this.store.db
      .selectFrom('listener_payloads as p')
      .leftJoin('runs as r', 'r.id', 'p.run_id')
      .select(['p.format', 'p.body', 'r.status', 'r.params'])
      .where('p.listener', '=', listener)
      .where('p.message_id', '=', messageId)
      .executeTakeFirst();
    if (!row) {
      throw new AppError(
        'NOT_FOUND',
        `Listener '${listener}' keeps no payload '${messageId}' (raise retainPayloadDays to keep payloads for replay)`,
      );
    }
    if (row.status === 'queued' || row.status === 'running')
      throw conflict(`Payload '${messageId}' has not finished its first run yet (${row.status})`);
    const params = row.params ? (JSON.parse(row.params) as RawParams) : {};
    return this.accept({
      listener,
      idempotencyKey: undefined,
      format: parseBodyFormat(row.format),
      body: row.body,
      run: { flow, params, trigger: 'listener', requestedBy },
    });
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
        const run = newRun(p.run, 'queued');
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
      await insertRows(trx, this.store.dialect, 'runs', RUN_COLUMNS, runRows);
      await insertRows(trx, this.store.dialect, 'listener_payloads', PAYLOAD_COLUMNS, payloadRows);
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
