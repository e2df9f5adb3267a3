import { conflict } from '../core/errors.js';
import type { Store } from '../store/database.js';
import type { UnitOfWork } from '../store/unit-of-work.js';

const COLUMNS = ['listener', 'key', 'run_id', 'message_id', 'created_at'] as const;

/** The call an Idempotency-Key was first seen with. */
export interface SeenKey {
  runId: string;
  /** The async call's message; null for a sync call. */
  messageId: string | null;
  /** When the key was first seen. */
  createdAt: string;
}

/**
 * The Idempotency-Keys listeners have seen, per listener, each kept for the window
 * (INTEGRATOR_IDEMPOTENCY_WINDOW) from the first call, whatever becomes of its payload. Within the
 * window a repeated key is the same call; after it, a new one.
 */
export class IdempotencyKeys {
  constructor(
    private readonly store: Store,
    private readonly windowMs: number,
  ) {}

  private cutoff(): string {
    return new Date(Date.now() - this.windowMs).toISOString();
  }

  /**
   * The call the key was first seen with, if that was within the window. A key past its window that
   * the sweep has not removed yet is removed here, so that a new call can take it.
   */
  async find(listener: string, key: string): Promise<SeenKey | undefined> {
    const row = await this.store.db
      .selectFrom('idempotency_keys')
      .select(['run_id', 'message_id', 'created_at'])
      .where('listener', '=', listener)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    const cutoff = this.cutoff();
    if (row.created_at >= cutoff)
      return { runId: row.run_id, messageId: row.message_id, createdAt: row.created_at };
    await this.store.db
      .deleteFrom('idempotency_keys')
      .where('listener', '=', listener)
      .where('key', '=', key)
      .where('created_at', '<', cutoff)
      .execute();
    return undefined;
  }

  /**
   * Adds the key to a unit of work that commits the call (an async payload with its run): a key taken
   * by another call meanwhile fails the unit on the primary key, and the caller then finds that call.
   */
  addTo(
    work: UnitOfWork,
    listener: string,
    key: string,
    seen: Omit<SeenKey, 'createdAt'>,
    at: string,
  ): UnitOfWork {
    return work.insert('idempotency_keys', COLUMNS, {
      listener,
      key,
      run_id: seen.runId,
      message_id: seen.messageId,
      created_at: at,
    });
  }

  /**
   * Takes the key for a call about to run (a sync call), in one statement: undefined when it is now
   * this call's, the first call otherwise.
   */
  async claim(listener: string, key: string, runId: string): Promise<SeenKey | undefined> {
    // Insert first: a new key (the usual case) costs one statement.
    for (let tries = 0; tries < 2; tries++) {
      const res = await this.store.db
        .insertInto('idempotency_keys')
        .values({ listener, key, run_id: runId, message_id: null, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['listener', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) > 0) return undefined;
      // Taken: by a call within the window, or by one past it (which find removes, and we try again).
      const seen = await this.find(listener, key);
      if (seen) return seen;
    }
    throw conflict(`Idempotency-Key '${key}' is being taken by another call; send it again`);
  }

  /** Removes the keys past their window; returns how many. */
  async sweep(): Promise<number> {
    const res = await this.store.db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', this.cutoff())
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
