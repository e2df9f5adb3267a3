/**
 * Idempotency-Key on listener calls: a key is kept for INTEGRATOR_IDEMPOTENCY_WINDOW (here 2 s),
 * whatever becomes of the payload; within it a repeated key answers the first call's outcome and runs
 * nothing, after it the key is a new call. Async and sync listeners alike, keys per listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { type ListenerFixture, listenerFixture } from './fixture.js';

const WINDOW_SECONDS = 2;
const json = { 'content-type': 'application/json' };

describe('Idempotency-Key window', () => {
  let f: ListenerFixture;
  beforeAll(async () => {
    f = await listenerFixture({ INTEGRATOR_IDEMPOTENCY_WINDOW: String(WINDOW_SECONDS) });
    await f.target.query('create table landed (k text, via text)');
    for (const mode of ['async', 'sync'] as const) {
      await f.put('flows', `land-${mode}`, {
        type: 'transfer',
        steps: [{ from: { connection: '@request' }, to: { connection: 'pgtarget', table: 'landed' } }],
      });
      await f.put('listeners', `keyed-${mode}`, { path: `keyed/${mode}`, flow: `land-${mode}`, mode });
      await f.put('listeners', `other-${mode}`, { path: `other/${mode}`, flow: `land-${mode}`, mode });
    }
  });
  afterAll(async () => {
    await f.close();
  });

  const call = (path: string, key: string, via: string) =>
    f.call(path, {
      method: 'POST',
      headers: { ...f.admin, ...json, 'idempotency-key': key },
      body: JSON.stringify({ k: key, via }),
    });
  const landed = async (key: string) =>
    (await f.target.query('select count(*)::int as n from landed where k = $1', [key])).rows[0].n;
  const finished = async (runId: string) => {
    for (let i = 0; i < 200; i++) {
      const run = await f.s.ctx.runs.get(runId);
      if (run.status !== 'queued' && run.status !== 'running') return run;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`run ${runId} did not finish`);
  };

  it('async: a repeated key answers the first receipt after its payload is gone, a new call after the window', async () => {
    const first = await call('keyed/async', 'order-1', 'async');
    expect(first.status).toBe(202);
    const receipt = (await first.json()) as { messageId: string; runId: string };
    expect((await finished(receipt.runId)).status).toBe('succeeded');
    // The payload is swept once its run has ended (retainPayloadDays 0); the key stays.
    expect(await f.s.ctx.listeners.queue.sweep()).toBeGreaterThan(0);
    const kept = await f.s.ctx.store.db
      .selectFrom('listener_payloads')
      .select('message_id')
      .where('message_id', '=', receipt.messageId)
      .execute();
    expect(kept).toEqual([]);
    const again = await call('keyed/async', 'order-1', 'async');
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(receipt);
    // Keys are per listener: the same key on another listener is another call.
    const other = await call('other/async', 'order-1', 'async');
    const otherReceipt = (await other.json()) as { runId: string };
    expect(otherReceipt.runId).not.toBe(receipt.runId);
    await finished(otherReceipt.runId);
    expect(await landed('order-1')).toBe(2);

    await new Promise((r) => setTimeout(r, WINDOW_SECONDS * 1000 + 100));
    const later = await call('keyed/async', 'order-1', 'async');
    expect(later.status).toBe(202);
    const laterReceipt = (await later.json()) as { messageId: string; runId: string };
    expect(laterReceipt.runId).not.toBe(receipt.runId);
    expect(laterReceipt.messageId).not.toBe(receipt.messageId);
    expect((await finished(laterReceipt.runId)).status).toBe('succeeded');
    expect(await landed('order-1')).toBe(3);
  });

  it('sync: a repeated key answers the first run again and runs nothing, a new call after the window', async () => {
    const first = await call('keyed/sync', 'sync-1', 'sync');
    expect(first.status).toBe(200);
    const body = await first.json();
    expect(body).toMatchObject({ status: 'succeeded', rowsWritten: 1 });
    const again = await call('keyed/sync', 'sync-1', 'sync');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(body);
    expect(await landed('sync-1')).toBe(1);
    // Calls racing with one key: one runs, the others answer its outcome or 409 while it runs.
    const racing = await Promise.all(Array.from({ length: 5 }, () => call('keyed/sync', 'sync-2', 'sync')));
    expect(racing.map((r) => r.status).sort()).toContain(200);
    for (const r of racing) expect([200, 409]).toContain(r.status);
    expect(await landed('sync-2')).toBe(1);

    await new Promise((r) => setTimeout(r, WINDOW_SECONDS * 1000 + 100));
    const later = await call('keyed/sync', 'sync-1', 'sync');
    expect(later.status).toBe(200);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(((await later.json()) as { runId: string }).runId).not.toBe((body as { runId: string }).runId);
    expect(await landed('sync-1')).toBe(2);
    // The sweep removes keys past their window.
    expect(await f.s.ctx.listeners.keys.sweep()).toBeGreaterThan(0);
  });

  it('refuses a bad key and a window outside 1 s to 7 days', async () => {
    const bad = await f.call('keyed/sync', {
      method: 'POST',
      headers: { ...f.admin, ...json, 'idempotency-key': 'with space' },
      body: '{"k":"x"}',
    });
    expect(bad.status).toBe(400);
    expect(loadSettings({}).idempotencyWindowSeconds).toBe(86_400);
    for (const raw of ['0', '604801', '24h'])
      expect(() => loadSettings({ INTEGRATOR_IDEMPOTENCY_WINDOW: raw })).toThrow(
        /INTEGRATOR_IDEMPOTENCY_WINDOW/,
      );
  });
});
