/**
 * The run history as the console reads it: paged on the server (`before` = the last id of a page),
 * filtered, and the newest run of each flow in one call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, putDefinition, type TestServer } from '../helpers/server.js';

interface RunRow {
  id: string;
  flow: string;
  status: string;
  createdAt: string;
}

describe('run history paging and latest runs', () => {
  let s: TestServer;
  let admin: { authorization: string };
  const get = async <T>(url: string) => {
    const res = await s.app.inject({ url, headers: admin });
    return { status: res.statusCode, body: res.json<T>() };
  };

  beforeAll(async () => {
    s = await createTestServer();
    admin = await s.login('admin', ADMIN_PASSWORD);
    await putDefinition(s, admin, 'connections', 'lite', { type: 'sqlite', path: 'files/list.db' });
    for (const name of ['ok', 'bad', 'idle']) {
      await putDefinition(s, admin, 'flows', name, {
        type: 'sql',
        connection: 'lite',
        sql: name === 'bad' ? 'select * from no_such_table' : 'select 1',
      });
    }
    for (let i = 0; i < 7; i++) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/flows/flow-name/ok/run',
        headers: admin,
      });
      expect(res.json().status).toBe(0);
    }
    const bad = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/flows/flow-name/bad/run',
      headers: admin,
    });
    expect(bad.json().status).toBe(1);
  });
  afterAll(() => s.close());

  it('pages through every run once, newest first, with a cursor', async () => {
    const all = (await get<RunRow[]>('/rest/v1/runs?limit=1000')).body;
    expect(all).toHaveLength(8);
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = (await get<RunRow[]>(`/rest/v1/runs?limit=3${before ? `&before=${before}` : ''}`)).body;
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.id));
      before = page.at(-1)?.id;
    }
    expect(seen).toEqual(all.map((r) => r.id));
    const filtered = (await get<RunRow[]>(`/rest/v1/runs?flow=ok&limit=2&before=${all[2]?.id}`)).body;
    expect(filtered.map((r) => r.flow)).toEqual(['ok', 'ok']);
    expect(filtered.every((r) => r.createdAt <= (all[2]?.createdAt ?? ''))).toBe(true);
  });

  it('names an unknown cursor', async () => {
    const res = await get<{ error: { code: string; message: string; details: { path: string }[] } }>(
      '/rest/v1/runs?before=no-such-run',
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details[0]?.path).toBe('/before');
  });

  it('answers the newest run of each flow that ran, without parameters and log', async () => {
    const all = (await get<RunRow[]>('/rest/v1/runs?limit=1000')).body;
    const latest = (await get<(RunRow & { log?: unknown; params?: unknown })[]>('/rest/v1/runs/latest')).body;
    expect(latest.map((r) => [r.flow, r.status]).sort()).toEqual([
      ['bad', 'failed'],
      ['ok', 'succeeded'],
    ]);
    expect(latest.find((r) => r.flow === 'ok')?.id).toBe(all.find((r) => r.flow === 'ok')?.id);
    expect(latest[0]).not.toHaveProperty('log');
    expect(latest[0]).not.toHaveProperty('params');
    const named = (await get<RunRow[]>('/rest/v1/runs/latest?flow=bad,idle')).body;
    expect(named.map((r) => r.flow)).toEqual(['bad']);
  });

  it('counts the runs of each recent hour by status, empty hours as zeros', async () => {
    const hours = (
      await get<{ hour: string; succeeded: number; failed: number; queued: number }[]>('/rest/v1/runs/hourly')
    ).body;
    expect(hours).toHaveLength(24);
    // The runs were made moments ago: in the last hour, or the one before when an hour turned since.
    const sum = (key: 'succeeded' | 'failed' | 'queued') => hours.reduce((n, h) => n + h[key], 0);
    expect([sum('succeeded'), sum('failed'), sum('queued')]).toEqual([7, 1, 0]);
    expect(hours.slice(0, -2).every((h) => h.succeeded + h.failed === 0)).toBe(true);
    expect(hours.at(-1)?.hour).toBe(`${new Date().toISOString().slice(0, 13)}:00:00.000Z`);
    expect(hours.map((h) => h.hour)).toEqual([...hours.map((h) => h.hour)].sort());
    expect((await get('/rest/v1/runs/hourly?hours=3')).body).toHaveLength(3);
    expect((await get('/rest/v1/runs/hourly?hours=0')).status).toBe(400);
  });

  it('verifies the audit chain over HTTP, and audits the check', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/rest/v1/audit/verify', headers: admin });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ ok: boolean; checked: number }>();
    expect(body.ok).toBe(true);
    expect(body.checked).toBeGreaterThan(10);
    const [event] = await s.ctx.audit.query({ action: 'audit.verified' });
    expect(event?.details).toEqual({ checked: body.checked });
    const viewer = await s.userWithRole('viewer');
    const denied = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/audit/verify',
      headers: { authorization: viewer.authorization },
    });
    expect(denied.statusCode).toBe(403);
  });
});

describe('the runs a run started', () => {
  it('lists a pipeline’s steps by their parent run', async () => {
    const s = await createTestServer();
    try {
      const admin = await s.login('admin', ADMIN_PASSWORD);
      await putDefinition(s, admin, 'connections', 'lite', { type: 'sqlite', path: 'files/parent.db' });
      await putDefinition(s, admin, 'flows', 'one', { type: 'sql', connection: 'lite', sql: 'select 1' });
      await putDefinition(s, admin, 'flows', 'both', {
        type: 'pipeline',
        flows: [{ flow: 'one' }, { flow: 'one' }],
      });
      const res = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/flows/flow-name/both/run',
        headers: admin,
      });
      const { runId } = res.json<{ status: number; runId: string }>();
      expect(res.json().status).toBe(0);
      const children = await s.app.inject({ url: `/rest/v1/runs?parent=${runId}`, headers: admin });
      const rows = children.json<{ flow: string; trigger: string; parentId: string }[]>();
      expect(rows.map((r) => [r.flow, r.trigger, r.parentId])).toEqual([
        ['one', 'pipeline', runId],
        ['one', 'pipeline', runId],
      ]);
      const none = await s.app.inject({ url: `/rest/v1/runs?parent=${rows[0]?.flow}`, headers: admin });
      expect(none.json()).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
