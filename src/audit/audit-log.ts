import { Coalescer } from '../core/coalescer.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/database.js';
import { UnitOfWork } from '../store/unit-of-work.js';
import type { AuditEvent, AuditInput, ChainedFields } from './audit-event.js';
import { type VerifyResult, verifyChain } from './audit-verify.js';
import { appendAlone, appendInTransaction, ChainMoved, fitsOneStatement } from './chain-append.js';

export interface AuditQuery {
  action?: string | undefined;
  actor?: string | undefined;
  outcome?: string | undefined;
  /** ISO time, inclusive. */
  from?: string | undefined;
  /** ISO time, exclusive. */
  to?: string | undefined;
  limit?: number | undefined;
}

export const MAX_AUDIT_EVENTS = 1000;

/** The one chain every event joins: the group commit's only key. */
const TRAIL = 'audit';

interface Pending {
  fields: ChainedFields;
  /** What commits together with the event. */
  work: UnitOfWork | undefined;
}

/**
 * The append-only, hash-chained audit trail. Events are group-committed: everything recorded while one
 * write is in flight goes into the next transaction, so a busy server pays one store transaction per
 * burst, and `record` resolves once its event is durable.
 */
export class AuditLog {
  private readonly group: Coalescer<Pending, undefined>;
  /**
   * The chain head this process committed last, or undefined when it must be read (at start, after a
   * failed write, or when another process appended).
   */
  private head: string | undefined;

  constructor(
    private readonly store: Store,
    logger: Logger,
  ) {
    // One bad companion row must not fail its neighbours: a failed group is written again item by item.
    this.group = new Coalescer({
      flush: ({ items }) => this.commit(items).then(() => items.map(() => undefined)),
      onFailure: 'retry-each',
      report: (err, size) => logger.error({ err, size }, 'audit events could not be written'),
    });
  }

  record(input: AuditInput): Promise<void> {
    return this.group.submit(TRAIL, { fields: toFields(input), work: undefined });
  }

  /**
   * Records an event together with a unit of work (a run's final record with its `flow.run.finished`,
   * an accepted payload and its queued run with the call's `listener.called`): both commit together, or
   * neither. Resolves once both are durable. The units of a group are written together, as parts of the
   * one statement that appends the events where the store supports that.
   */
  recordWith(input: AuditInput, work: UnitOfWork): Promise<void> {
    return this.group.submit(TRAIL, { fields: toFields(input), work });
  }

  /** Waits for every recorded event to be committed. */
  drain(): Promise<void> {
    return this.group.drain();
  }

  private async commit(items: readonly Pending[]): Promise<void> {
    const fields = items.map((i) => i.fields);
    const work = groupWork(items);
    const cached = this.head;
    this.head = undefined;
    try {
      this.head =
        cached !== undefined &&
        this.store.supportsOneStatementGroupCommit &&
        fitsOneStatement(items.length, work ? work.statementValues() : 0)
          ? await appendAlone(this.store, fields, work, cached)
          : await this.commitOnce(fields, work, cached);
    } catch (err) {
      if (!(err instanceof ChainMoved)) throw err;
      this.head = await this.commitOnce(fields, work, undefined);
    }
  }

  /** Writes a group in one transaction and returns the new chain head. */
  private commitOnce(
    fields: readonly ChainedFields[],
    work: UnitOfWork | undefined,
    cached: string | undefined,
  ): Promise<string> {
    return this.store.db.transaction().execute(async (trx) => {
      await work?.execute(trx, this.store);
      return appendInTransaction(trx, this.store, fields, cached);
    });
  }

  /** Newest first, at most 1000. */
  async query(q: AuditQuery = {}): Promise<AuditEvent[]> {
    const limit = Math.min(Math.max(q.limit ?? MAX_AUDIT_EVENTS, 1), MAX_AUDIT_EVENTS);
    let query = this.store.db.selectFrom('audit_events').selectAll();
    if (q.action) query = query.where('action', '=', q.action);
    if (q.actor) query = query.where('actor', '=', q.actor);
    if (q.outcome) query = query.where('outcome', '=', q.outcome);
    if (q.from) query = query.where('at', '>=', q.from);
    if (q.to) query = query.where('at', '<', q.to);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      clientIp: r.client_ip,
      durationMs: r.duration_ms,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
      hash: r.hash,
    }));
  }

  /** Recomputes the chain and checks it reaches its head; see verifyChain. */
  verify(): Promise<VerifyResult> {
    return verifyChain(this.store);
  }

  /**
   * Deletes events older than `days`; returns how many. Only a prefix of the chain is removed (events
   * before the oldest one still inside the window), and the newest event always stays, so what remains
   * verifies from its first event on.
   */
  async prune(days: number): Promise<number> {
    if (days <= 0) return 0;
    const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
    const bounds = await this.store.db
      .selectFrom('audit_events')
      .select((eb) => [
        eb.fn.max('id').as('last'),
        eb.fn.min(eb.case().when('at', '>=', cutoff).then(eb.ref('id')).end()).as('firstKept'),
      ])
      .executeTakeFirst();
    if (!bounds || bounds.last === null) return 0;
    const keepFrom = Math.min(Number(bounds.firstKept ?? bounds.last), Number(bounds.last));
    const res = await this.store.db.deleteFrom('audit_events').where('id', '<', keepFrom).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

function toFields(input: AuditInput): ChainedFields {
  return {
    at: (input.at ?? new Date()).toISOString(),
    actor: input.actor ?? null,
    action: input.action,
    target: input.target ?? null,
    outcome: input.outcome,
    client_ip: input.clientIp ?? null,
    duration_ms: input.durationMs == null ? null : Math.round(input.durationMs),
    details: input.details ? JSON.stringify(input.details) : null,
  };
}

/** The changes of a group's items as one unit; undefined when none has any. */
function groupWork(items: readonly Pending[]): UnitOfWork | undefined {
  let only: UnitOfWork | undefined;
  let merged: UnitOfWork | undefined;
  for (const { work } of items) {
    if (!work) continue;
    if (merged) merged.merge(work);
    else if (only) merged = new UnitOfWork().merge(only).merge(work);
    else only = work;
  }
  return merged ?? only;
}
