import { CompiledQuery, type Transaction } from 'kysely';
import { Coalescer } from '../core/coalescer.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { type AuditEvent, type AuditInput, type ChainedFields, chainHash } from './audit-event.js';
import {
  appendAlone,
  appendInTransaction,
  ChainMoved,
  type CompanionRow,
  type CompanionStatement,
  fitsOneStatement,
  insertCompanionRows,
  type StatementOf,
} from './chain-append.js';

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

/**
 * What must commit together with an audit event (a run's final record with its `flow.run.finished`, an
 * accepted payload and its queued run with the call's `listener.called`): rows to insert, or a function
 * that writes items of its kind (items with the same `write` are written by one call per group). A group
 * whose companions are all rows is written on PostgreSQL in one statement with its events, without a
 * transaction around it.
 */
export type Companion<T> =
  | { rows: CompanionRow[] }
  | { statement: StatementOf<T>; width: number; item: T }
  | { write: (trx: Transaction<Database>, items: T[]) => Promise<void>; item: T };

interface Pending {
  fields: ChainedFields;
  companion: Companion<unknown> | undefined;
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
    return this.group.submit(TRAIL, { fields: toFields(input), companion: undefined });
  }

  /**
   * Records an event together with its companion: both commit in the same transaction, or neither.
   * Resolves once both are durable.
   */
  recordWith<T>(input: AuditInput, companion: Companion<T>): Promise<void> {
    return this.group.submit(TRAIL, { fields: toFields(input), companion: companion as Companion<unknown> });
  }

  /** Waits for every recorded event to be committed. */
  drain(): Promise<void> {
    return this.group.drain();
  }

  private async commit(items: readonly Pending[]): Promise<void> {
    const cached = this.head;
    this.head = undefined;
    try {
      const parts = cached === undefined ? undefined : this.oneStatement(items);
      this.head =
        cached !== undefined && parts !== undefined
          ? await appendAlone(
              this.store.db,
              items.map((i) => i.fields),
              parts.rows,
              parts.statements,
              cached,
            )
          : await this.commitOnce(items, cached);
    } catch (err) {
      if (!(err instanceof ChainMoved)) throw err;
      this.head = await this.commitOnce(items, undefined);
    }
  }

  /** Writes a group in one transaction and returns the new chain head. */
  private commitOnce(items: readonly Pending[], cached: string | undefined): Promise<string> {
    return this.store.db.transaction().execute(async (trx) => {
      const byWriter = new Map<(trx: Transaction<Database>, items: unknown[]) => Promise<void>, unknown[]>();
      const rows: CompanionRow[] = [];
      const statements = new Map<StatementOf<unknown>, unknown[]>();
      for (const { companion } of items) {
        if (!companion) continue;
        if ('rows' in companion) {
          for (const r of companion.rows) rows.push(r);
          continue;
        }
        if ('statement' in companion) push(statements, companion.statement, companion.item);
        else push(byWriter, companion.write, companion.item);
      }
      await insertCompanionRows(trx, this.store.dialect, rows);
      for (const [build, list] of statements) {
        const { text, values } = build(list, 0);
        await trx.executeQuery(CompiledQuery.raw(text, values));
      }
      for (const [write, list] of byWriter) await write(trx, list);
      return appendInTransaction(
        trx,
        this.store.dialect,
        items.map((i) => i.fields),
        cached,
      );
    });
  }

  /**
   * The companions of a group when PostgreSQL can write them in the statement appending the events
   * (rows to insert and statements, none that needs a write function, and not too many), or undefined.
   */
  private oneStatement(
    items: readonly Pending[],
  ): { rows: CompanionRow[]; statements: CompanionStatement[] } | undefined {
    if (this.store.dialect !== 'postgres') return undefined;
    const rows: CompanionRow[] = [];
    const byBuild = new Map<StatementOf<unknown>, CompanionStatement>();
    for (const { companion } of items) {
      if (!companion) continue;
      if ('rows' in companion) {
        for (const r of companion.rows) rows.push(r);
      } else if ('statement' in companion) {
        const st = byBuild.get(companion.statement);
        if (st) st.items.push(companion.item);
        else
          byBuild.set(companion.statement, {
            build: companion.statement,
            width: companion.width,
            items: [companion.item],
          });
      } else {
        return undefined;
      }
    }
    const statements = [...byBuild.values()];
    return fitsOneStatement(items.length, rows, statements) ? { rows, statements } : undefined;
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

  /**
   * Recomputes the chain from the oldest kept event. The first kept event's prev_hash is the anchor
   * (older events may have been pruned by retention). Reads in pages so memory stays flat.
   */
  async verify(): Promise<{ ok: boolean; checked: number; brokenAt?: number; reason?: string }> {
    let checked = 0;
    let prev: string | undefined;
    let afterId = -1;
    for (;;) {
      const page = await this.store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('id', '>', afterId)
        .orderBy('id', 'asc')
        .limit(1000)
        .execute();
      if (page.length === 0) return { ok: true, checked };
      for (const r of page) {
        const id = Number(r.id);
        if (prev !== undefined && r.prev_hash !== prev) {
          return {
            ok: false,
            checked,
            brokenAt: id,
            reason: 'previous hash does not match: an event was removed or inserted',
          };
        }
        if (chainHash(r.prev_hash, r) !== r.hash) {
          return {
            ok: false,
            checked,
            brokenAt: id,
            reason: 'hash does not match the event: it was altered',
          };
        }
        prev = r.hash;
        afterId = id;
        checked++;
      }
    }
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

/** Adds an item to the list kept under `key`. */
function push<K>(lists: Map<K, unknown[]>, key: K, item: unknown): void {
  const list = lists.get(key);
  if (list) list.push(item);
  else lists.set(key, [item]);
}
