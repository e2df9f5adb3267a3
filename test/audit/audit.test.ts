import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/core/logger.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

interface Ev {
  id: number;
  action: string;
  actor: string | null;
  target: string | null;
  outcome: string;
  clientIp: string | null;
  details: Record<string, unknown> | null;
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`audit trail on ${store}`, () => {
    let s: TestServer;
    let admin: { authorization: string };
    const events = async (query = '') => {
      const res = await s.app.inject({ url: `/plugins/audit/rest/v1/audit${query}`, headers: admin });
      expect(res.statusCode).toBe(200);
      return res.json<{ events: Ev[]; count: number }>().events;
    };
    beforeAll(async () => {
      s = await createTestServer({ store });
      admin = await s.login('admin', ADMIN_PASSWORD);
    });
    afterAll(() => s.close());

    it('records logins, token issues and failures with actor and client address', async () => {
      await s.app.inject({
        method: 'POST',
        url: '/rest/v1/token-auth/issue',
        remoteAddress: '10.1.2.3',
        payload: { login: 'admin', password: 'not-it-at-all' },
      });
      const [failed] = await events('?action=login.failed');
      expect(failed).toMatchObject({ actor: 'admin', outcome: 'failure', clientIp: '10.1.2.3' });
      const ok = await events('?action=login.succeeded&user=admin');
      expect(ok.length).toBeGreaterThan(0);
      expect((await events('?action=token.issued'))[0]?.details).toEqual({ expiresIn: 600 });
    });

    it('records every user change, failed attempts and access denials', async () => {
      await s.app.inject({
        method: 'POST',
        url: '/rest/v1/users',
        headers: admin,
        payload: { login: 'carol', password: 'carol-password', role: 'viewer' },
      });
      await s.app.inject({
        method: 'PATCH',
        url: '/rest/v1/users/carol',
        headers: admin,
        payload: { role: 'editor' },
      });
      await s.app.inject({
        method: 'PUT',
        url: '/rest/v1/users/carol/password',
        headers: admin,
        payload: { password: 'carol-password-2' },
      });
      const dup = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/users',
        headers: admin,
        payload: { login: 'carol', password: 'carol-password', role: 'viewer' },
      });
      expect(dup.statusCode).toBe(409);
      const carol = await s.login('carol', 'carol-password-2');
      await s.app.inject({ url: '/rest/v1/audit', headers: carol });
      await s.app.inject({ method: 'DELETE', url: '/rest/v1/users/carol', headers: admin });
      const all = await events();
      const actions = all
        .filter((e) => e.target === 'carol' || e.actor === 'carol')
        .map((e) => `${e.action}:${e.outcome}`);
      expect(actions).toEqual(
        expect.arrayContaining([
          'user.created:success',
          'user.updated:success',
          'user.password.changed:success',
          'user.created:failure',
          'access.denied:denied',
          'user.deleted:success',
        ]),
      );
      const updated = all.find((e) => e.action === 'user.updated');
      expect(updated?.details).toEqual({ role: 'editor' });
      // Passwords never reach the trail.
      expect(JSON.stringify(all)).not.toContain('carol-password');
    });

    it('is admin only', async () => {
      const op = await s.userWithRole('operator');
      const res = await s.app.inject({ url: '/plugins/audit/rest/v1/audit', headers: op });
      expect(res.statusCode).toBe(403);
      expect((await s.app.inject({ url: '/plugins/audit/rest/v1/audit' })).statusCode).toBe(401);
    });

    it('returns the newest 1000 events, newest first, and honours limit and time filters', async () => {
      const base = Date.parse('2020-01-01T00:00:00Z');
      await Promise.all(
        Array.from({ length: 1100 }, (_, i) =>
          s.ctx.audit.record({
            action: 'test.bulk',
            outcome: 'success',
            actor: 'bulk',
            details: { i },
            at: new Date(base + i * 1000),
          }),
        ),
      );
      const newest = await events();
      expect(newest).toHaveLength(1000);
      const ids = newest.map((e) => e.id);
      expect([...ids].sort((a, b) => b - a)).toEqual(ids);
      expect(await events('?limit=5')).toHaveLength(5);
      const window = await events('?action=test.bulk&from=2020-01-01T00:00:10Z&to=2020-01-01T00:00:20Z');
      expect(window.map((e) => e.details?.['i'])).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
      const bad = await s.app.inject({ url: '/rest/v1/audit?limit=5000', headers: admin });
      expect(bad.statusCode).toBe(400);
    });

    it('verifies the hash chain and detects an altered or removed event', async () => {
      expect((await s.ctx.audit.verify()).ok).toBe(true);
      const victim = (await events('?action=test.bulk&limit=1'))[0];
      await sql`update audit_events set actor = 'mallory' where id = ${victim?.id}`.execute(s.ctx.store.db);
      const altered = await s.ctx.audit.verify();
      expect(altered).toMatchObject({ ok: false, brokenAt: victim?.id });
      expect(altered.reason).toMatch(/altered/);
      await sql`update audit_events set actor = 'bulk' where id = ${victim?.id}`.execute(s.ctx.store.db);
      expect((await s.ctx.audit.verify()).ok).toBe(true);
      await sql`delete from audit_events where id = ${(victim?.id ?? 0) - 1}`.execute(s.ctx.store.db);
      const removed = await s.ctx.audit.verify();
      expect(removed).toMatchObject({ ok: false, brokenAt: victim?.id });
      expect(removed.reason).toMatch(/removed/);
    });

    it('detects removed newest events with nothing appended after them, and a trail emptied', async () => {
      // A store of its own: the chain of the shared one is broken by the test before.
      const own = await createTestServer({ store });
      try {
        const audit = own.ctx.audit;
        for (let i = 0; i < 3; i++) await audit.record({ action: 'test.tail', outcome: 'success' });
        await audit.drain();
        expect(await audit.verify()).toMatchObject({ ok: true });
        const [newest, second] = await audit.query({ limit: 2 });
        expect(newest?.id).toBeGreaterThan(second?.id ?? 0);
        await sql`delete from audit_events where id >= ${second?.id}`.execute(own.ctx.store.db);
        const cut = await audit.verify();
        expect(cut.ok).toBe(false);
        expect(cut.reason).toBe('the newest events were removed: the chain ends before its recorded head');
        await sql`delete from audit_events`.execute(own.ctx.store.db);
        expect((await audit.verify()).reason).toBe(
          'every event was removed: the chain head records events, the table has none',
        );
      } finally {
        await own.close();
      }
    });
  });
}

describe('audit retention', () => {
  it('prunes the old prefix of the trail and the rest still verifies', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'integrator-audit-'));
    const ctx = await createContext(loadSettings({ INTEGRATOR_DATA_DIR: dataDir }), createLogger('silent'));
    try {
      const old = new Date(Date.now() - 40 * 86_400_000);
      for (let i = 0; i < 5; i++)
        await ctx.audit.record({ action: 'old.event', outcome: 'success', at: old });
      await ctx.audit.record({ action: 'new.event', outcome: 'success' });
      await ctx.audit.record({ action: 'old.event', outcome: 'success', at: old });
      expect(await ctx.audit.prune(30)).toBe(5);
      expect((await ctx.audit.query()).map((e) => e.action)).toEqual(['old.event', 'new.event']);
      expect((await ctx.audit.verify()).ok).toBe(true);
      expect(await ctx.audit.prune(30)).toBe(0);
    } finally {
      await ctx.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('audit chain shared by several processes', () => {
  it('stays one chain when two processes append to the same PostgreSQL store at once', async () => {
    const db = await createPgDatabase('chain');
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'integrator-chain-')));
    const open = (dir: string) =>
      createContext(
        loadSettings({
          INTEGRATOR_DATA_DIR: dir,
          INTEGRATOR_DATABASE_URL: db.url,
          INTEGRATOR_DEMO: 'false',
          // Processes of one cluster share the secret that encrypts connection settings.
          INTEGRATOR_SECRET: 'chain-test-secret-chain-test-secret-0123',
        }),
        createLogger('silent'),
      );
    const a = await open(dirs[0] as string);
    const b = await open(dirs[1] as string);
    try {
      // Each process learns the head, then both append in bursts that interleave: every burst after the
      // other process wrote finds the head moved and must chain on from the new one.
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          [a, b].flatMap((ctx, p) =>
            Array.from({ length: 5 }, (_, i) =>
              ctx.audit.record({ action: 'test.chain', outcome: 'success', details: { p, round, i } }),
            ),
          ),
        );
      }
      // Runs whose records commit with their events: a group written again after the head moved must
      // not leave its first attempt's rows behind.
      await a.definitions.put('connection', 'store', { type: 'postgres', url: db.url }, { name: 'test' });
      await a.definitions.put(
        'flow',
        'quick',
        { type: 'sql', connection: 'store', sql: 'select 1' },
        { name: 'test' },
      );
      const runs = [];
      for (let round = 0; round < 5; round++) {
        runs.push(
          ...(await Promise.all(
            [a, b].flatMap((ctx) =>
              Array.from({ length: 4 }, () => ctx.runs.runSync({ flow: 'quick', trigger: 'api' })),
            ),
          )),
        );
      }
      // A run stored while running (over half a second) ends with a guarded update, in a transaction;
      // the other process appends while it runs, so the head it wrote last has moved when it ends.
      await a.definitions.put(
        'flow',
        'slow',
        { type: 'sql', connection: 'store', sql: 'select pg_sleep(1.2)' },
        { name: 'test' },
      );
      const slow = a.runs.runSync({ flow: 'slow', trigger: 'api' });
      await new Promise((r) => setTimeout(r, 1050));
      expect((await a.runs.store.get((await a.runs.list({ flow: 'slow' }))[0]?.id ?? ''))?.status).toBe(
        'running',
      );
      await b.audit.record({ action: 'test.chain', outcome: 'success', details: { during: 'slow' } });
      runs.push(await slow);
      expect(runs.filter((r) => r.status !== 'succeeded').map((r) => r.error)).toEqual([]);
      const stored = await sql<{ n: number }>`select count(*)::int as n from runs`.execute(a.store.db);
      expect(stored.rows[0]?.n).toBe(41);
      const finished = await a.audit.query({ action: 'flow.run.finished' });
      expect(new Set(finished.map((e) => e.details?.['runId'])).size).toBe(41);
      expect(finished).toHaveLength(41);
      const verified = await a.audit.verify();
      expect(verified).toMatchObject({ ok: true });
      expect((await a.audit.query({ action: 'test.chain' })).length).toBe(101);
      // Removing the newest event is detected, also once something is appended after it.
      const [newest] = await a.audit.query({ limit: 1 });
      await sql`delete from audit_events where id = ${newest?.id}`.execute(a.store.db);
      await b.audit.record({ action: 'test.after', outcome: 'success' });
      const broken = await a.audit.verify();
      expect(broken).toMatchObject({ ok: false });
      expect(broken.reason).toMatch(/removed/);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('stays one chain when two processes append to the same SQLite file in turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'integrator-chain-'));
    const open = () =>
      createContext(
        loadSettings({ INTEGRATOR_DATA_DIR: dir, INTEGRATOR_DEMO: 'false' }),
        createLogger('silent'),
      );
    const a = await open();
    const b = await open();
    try {
      for (let i = 0; i < 6; i++) {
        await (i % 2 === 0 ? a : b).audit.record({
          action: 'test.turns',
          outcome: 'success',
          details: { i },
        });
      }
      expect(await a.audit.verify()).toMatchObject({ ok: true });
      expect(await a.audit.query({ action: 'test.turns' })).toHaveLength(6);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
