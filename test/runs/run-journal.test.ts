import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

/** When a synchronous run's record reaches the store, and what this process shows before it does. */
describe('run records of synchronous runs', () => {
  let s: TestServer;
  let target: Awaited<ReturnType<typeof createPgDatabase>>;
  const sys = { name: 'test' };
  beforeAll(async () => {
    s = await createTestServer();
    target = await createPgDatabase('journal');
    await s.ctx.definitions.put('connection', 'pg', { type: 'postgres', url: target.url }, sys);
    await s.ctx.definitions.put('flow', 'quick', { type: 'sql', connection: 'pg', sql: 'select 1' }, sys);
    await s.ctx.definitions.put(
      'flow',
      'slow',
      { type: 'sql', connection: 'pg', sql: 'select pg_sleep(1.5)' },
      sys,
    );
  });
  afterAll(async () => {
    await s.close();
    await target.drop();
  });

  it('stores a short run once, finished, with its audit event, before runSync returns', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => s.ctx.runs.runSync({ flow: 'quick', trigger: 'api' })),
    );
    for (const run of runs) {
      const stored = await s.ctx.runs.store.get(run.id);
      expect(stored).toMatchObject({ id: run.id, status: 'succeeded', rowsRead: 0 });
      expect(stored?.finishedAt).not.toBeNull();
    }
    const ids = new Set(runs.map((r) => r.id));
    const events = (await s.ctx.audit.query({})).filter((e) => ids.has(String(e.details?.['runId'])));
    expect(events).toHaveLength(20);
    expect(events.every((e) => e.action === 'flow.run.finished' && e.outcome === 'success')).toBe(true);
  });

  it('shows a long run here at once, and in the store as running after half a second', async () => {
    const pending = s.ctx.runs.runSync({ flow: 'slow', trigger: 'api' });
    await new Promise((r) => setTimeout(r, 50));
    const [listed] = await s.ctx.runs.list({ flow: 'slow', status: 'running' });
    expect(listed?.status).toBe('running');
    const id = listed?.id ?? '';
    expect((await s.ctx.runs.get(id)).status).toBe('running');
    let stored = await s.ctx.runs.store.get(id);
    for (let i = 0; i < 30 && stored?.status !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      stored = await s.ctx.runs.store.get(id);
    }
    expect(stored?.status).toBe('running');
    // Listed once, although it is now both live here and in the store.
    expect((await s.ctx.runs.list({ flow: 'slow' })).filter((r) => r.id === id)).toHaveLength(1);
    const done = await pending;
    expect(done.status).toBe('succeeded');
    expect((await s.ctx.runs.store.get(id))?.status).toBe('succeeded');
    await s.ctx.audit.drain();
    const events = (await s.ctx.audit.query({})).filter((e) => e.details?.['runId'] === id);
    expect(events.map((e) => e.action).sort()).toEqual(['flow.run.finished', 'flow.run.started']);
  });

  it('cancels a run that is not stored yet', async () => {
    const pending = s.ctx.runs.runSync({ flow: 'slow', trigger: 'api' });
    await new Promise((r) => setTimeout(r, 50));
    const [listed] = await s.ctx.runs.list({ flow: 'slow', status: 'running' });
    await s.ctx.runs.cancel(listed?.id ?? '');
    const done = await pending;
    expect(done.status).toBe('cancelled');
    expect((await s.ctx.runs.store.get(done.id))?.status).toBe('cancelled');
  });
});

describe('run records on a PostgreSQL store', () => {
  it('ends several stored runs in one update, guarded by status and attempt', async () => {
    const s = await createTestServer({ store: 'postgres' });
    const target = await createPgDatabase('journal_pg');
    const sys = { name: 'test' };
    try {
      await s.ctx.definitions.put('connection', 'pg', { type: 'postgres', url: target.url }, sys);
      await s.ctx.definitions.put(
        'flow',
        'slow',
        { type: 'sql', connection: 'pg', sql: 'select pg_sleep(1.2)' },
        sys,
      );
      const pending = Array.from({ length: 4 }, () => s.ctx.runs.runSync({ flow: 'slow', trigger: 'api' }));
      // Once they are stored as running, another process takes one over (a later attempt).
      let stored: { id: string }[] = [];
      for (let i = 0; i < 40 && stored.length < 4; i++) {
        await new Promise((r) => setTimeout(r, 50));
        stored = await s.ctx.runs.store.list({ flow: 'slow', status: 'running' });
      }
      expect(stored).toHaveLength(4);
      const takenOver = stored[0]?.id ?? '';
      await sql`update runs set attempt = 2 where id = ${takenOver}`.execute(s.ctx.store.db);
      const runs = await Promise.all(pending);
      expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
      for (const run of runs) {
        const record = await s.ctx.runs.store.get(run.id);
        if (run.id === takenOver) expect(record).toMatchObject({ status: 'running', attempt: 2 });
        else
          expect(record).toMatchObject({
            status: 'succeeded',
            attempt: 1,
            error: null,
            finishedAt: run.finishedAt,
          });
        if (run.id !== takenOver) expect(record?.steps).toEqual(run.steps);
      }
    } finally {
      await s.close();
      await target.drop();
    }
  });
});
