import { randomUUID } from 'node:crypto';
import type { AuditInput } from '../audit/audit-event.js';
import type { AuditLog } from '../audit/audit-log.js';
import { AppError, conflict } from '../core/errors.js';
import type { RawParams } from '../flows/engine-types.js';
import { newRun } from '../runs/run-records.js';
import type { RunService } from '../runs/run-service.js';
import type { RunRequest } from '../runs/run-types.js';
import type { Store } from '../store/database.js';
import { UnitOfWork } from '../store/unit-of-work.js';
import type { IdempotencyKeys } from './idempotency-keys.js';
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
 * Durable intake of async listener payloads. `accept()` resolves only after the payload, its queued run
 * and the call's audit event are committed together, so a 202 never promises what a crash could lose.
 * They ride the audit trail's group commit: payloads that arrive while a write is in flight go into the
 * next one (one statement per burst on PostgreSQL). A repeated Idempotency-Key (within the window the
 * keys are kept, see IdempotencyKeys) returns the first call's receipt and stores nothing.
 */
export class PayloadStore {
  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly audit: AuditLog,
    private readonly keys: IdempotencyKeys,
  ) {}

  /**
   * Stores the payload with its queued run and the audit event `event` makes of the receipt, then wakes
   * a worker. A key seen before (or taken by a call committed a moment ago) gets that call's receipt,
   * marked duplicate, and nothing is stored or audited.
   */
  async accept(payload: Payload, event: (receipt: Receipt) => AuditInput): Promise<Receipt> {
    const key = payload.idempotencyKey;
    if (key !== undefined) {
      const seen = await this.findKey(payload.listener, key);
      if (seen) return seen;
    }
    const run = newRun(payload.run, 'queued');
    const receipt: Receipt = { status: 'received', messageId: randomUUID(), runId: run.id };
    const work = this.runs.store.addInsert(new UnitOfWork(), run);
    if (key !== undefined) this.keys.addTo(work, payload.listener, key, receipt, run.createdAt);
    work.insert('listener_payloads', PAYLOAD_COLUMNS, {
      message_id: receipt.messageId,
      listener: payload.listener,
      run_id: run.id,
      idempotency_key: key ?? null,
      format: JSON.stringify(payload.format),
      body: payload.body,
      received_at: run.createdAt,
    });
    try {
      await this.audit.recordWith(event(receipt), work);
    } catch (err) {
      // The key is the primary key per listener: a call with the same key committed first.
      const seen = key === undefined ? undefined : await this.findKey(payload.listener, key);
      if (seen) return seen;
      throw err;
    }
    this.runs.announce(run);
    return receipt;
  }

  /** The receipt of the call a listener accepted with this Idempotency-Key within the window, if any. */
  private async findKey(listener: string, key: string): Promise<Receipt | undefined> {
    const seen = await this.keys.find(listener, key);
    return seen?.messageId
      ? { status: 'received', messageId: seen.messageId, runId: seen.runId, duplicate: true }
      : undefined;
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
  async replay(
    listener: string,
    messageId: string,
    flow: string,
    requestedBy: string,
    event: (receipt: Receipt) => AuditInput,
  ): Promise<Receipt> {
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
    return this.accept(
      {
        listener,
        idempotencyKey: undefined,
        format: parseBodyFormat(row.format),
        body: row.body,
        run: { flow, params, trigger: 'listener', requestedBy },
      },
      event,
    );
  }
}
