import type { Store } from '../store/database.js';
import { chainHash, GENESIS_HASH } from './audit-event.js';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  brokenAt?: number;
  reason?: string;
}

/**
 * Recomputes the audit chain from the oldest kept event (its prev_hash is the anchor: older events may
 * have been pruned by retention), reading in pages so memory stays flat, and checks it reaches the head
 * kept apart from the events (table audit_chain). The head is read first: it moves in the same
 * transaction as the events it covers, so every event up to it is visible, and events appended while
 * the check runs only extend the chain past it. A chain that never reaches the head lost its newest
 * events, even when nothing was appended after them.
 */
export async function verifyChain(store: Store): Promise<VerifyResult> {
  const headRow = await store.db
    .selectFrom('audit_chain')
    .select('hash')
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!headRow) {
    return { ok: false, checked: 0, reason: 'the chain head (table audit_chain) is missing' };
  }
  const head = headRow.hash;
  let reachedHead = head === GENESIS_HASH;
  let checked = 0;
  let prev: string | undefined;
  let afterId = -1;
  for (;;) {
    const page = await store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id', 'asc')
      .limit(1000)
      .execute();
    if (page.length === 0) break;
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
        return { ok: false, checked, brokenAt: id, reason: 'hash does not match the event: it was altered' };
      }
      if (r.hash === head) reachedHead = true;
      prev = r.hash;
      afterId = id;
      checked++;
    }
  }
  if (!reachedHead) {
    return {
      ok: false,
      checked,
      brokenAt: afterId + 1,
      reason:
        checked === 0
          ? 'every event was removed: the chain head records events, the table has none'
          : 'the newest events were removed: the chain ends before its recorded head',
    };
  }
  return { ok: true, checked };
}
