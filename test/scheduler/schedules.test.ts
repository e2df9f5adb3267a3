import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { maxOverlap, sleep, waitFor } from '../runs/helpers.js';
import { createPgDatabase } from '../services.js';

let s: TestServer;
let auth: { authorization: string };
let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;

async function call(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  payload?: Record<string, unknown>,
) {
  return s.app.inject(
    payload === undefined ? { method, url, headers: auth } : { method, url, headers: auth, payload },
  );
}

async function runsOf(schedule: string): Promise<Run[]> {
  const all = (await call('GET', '/rest/v1/runs?trigger=schedule&limit=1000')).json<Run[]>();
  return all.filter((r) => r.schedule === schedule);
}

beforeAll(async () => {
  pgdb = await createPgDatabase('sched');
  s = await createTestServer({ store: 'postgres', env: { INTEGRATOR_WORKERS: '8' } });
  auth = await s.login('admin', 'admin-password-1');
  await call('PUT', '/rest/v1/connections/pg', { type: 'postgres', url: pgdb.url });
  for (const name of ['slow-skip', 'slow-queue', 'slow-allow'])
    await call('PUT', `/rest/v1/flows/${name}`, {
      type: 'sql',
      connection: 'pg',
      sql: 'select pg_sleep(2.2)',
    });
});

afterAll(async () => {
  await s?.close();
  await pgdb?.drop();
});

describe('schedules', () => {
  it('rejects a bad cron expression or time zone with the field', async () => {
    const bad = await call('PUT', '/rest/v1/schedules/bad', { flow: 'slow-skip', cron: 'every day' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { details: { path: string }[] } }>().error.details[0]?.path).toBe('/cron');
    const tz = await call('PUT', '/rest/v1/schedules/bad', {
      flow: 'slow-skip',
      cron: '0 9 * * *',
      timezone: 'Mars/Olympus',
    });
    expect(tz.statusCode).toBe(400);
    expect(tz.json<{ error: { details: { path: string }[] } }>().error.details[0]?.path).toBe('/timezone');
  });

  it('shows the next fire times in the schedule’s time zone, and audits changes', async () => {
    const res = await call('PUT', '/rest/v1/schedules/morning', {
      flow: 'slow-skip',
      cron: '0 30 9 * * MON-FRI',
      timezone: 'Asia/Kolkata',
      enabled: true,
    });
    expect(res.statusCode).toBe(201);
    const next = (await call('GET', '/rest/v1/schedules/morning/next?count=5')).json<{ next: string[] }>()
      .next;
    expect(next).toHaveLength(5);
    for (const t of next) {
      expect(t).toMatch(/T04:00:00.000Z$/); // 09:30 in India is 04:00 UTC
      expect([0, 6]).not.toContain(new Date(Date.parse(t) + 5.5 * 3600_000).getUTCDay());
    }
    const list = (await call('GET', '/rest/v1/schedules')).json<{ name: string; nextRun: string }[]>();
    expect(list.find((x) => x.name === 'morning')?.nextRun).toBe(next[0]);
    // The read-only nextRun may be sent back unchanged.
    const again = await call('PUT', '/rest/v1/schedules/morning', { ...list[0], enabled: false });
    expect(again.statusCode).toBe(200);
    expect(again.json<{ nextRun: string | null }>().nextRun).toBeNull();
    const audit = (await call('GET', '/rest/v1/audit')).json<{
      events: { action: string; target: string }[];
    }>().events;
    expect(audit.filter((e) => e.action === 'schedule.saved' && e.target === 'morning')).toHaveLength(2);
  });

  it('applies the overlap policies: skip, queue and allow', async () => {
    for (const overlap of ['skip', 'queue', 'allow'])
      await call('PUT', `/rest/v1/schedules/every-second-${overlap}`, {
        flow: `slow-${overlap}`,
        cron: '* * * * * *',
        overlap,
      });
    await sleep(4500);
    for (const overlap of ['skip', 'queue', 'allow'])
      await call('DELETE', `/rest/v1/schedules/every-second-${overlap}`);
    const skip = await runsOf('every-second-skip');
    const queue = await runsOf('every-second-queue');
    const allow = await runsOf('every-second-allow');
    // skip: a tick while a run is active is dropped, so runs never overlap and ticks were skipped.
    expect(skip.length).toBeGreaterThanOrEqual(1);
    expect(skip.length).toBeLessThanOrEqual(2);
    const fires = (await call('GET', '/rest/v1/schedules/every-second-skip/fires')).statusCode;
    expect(fires).toBe(404); // deleted with the schedule's definition
    // queue: every tick made a run, but they run one after another.
    expect(queue.length).toBeGreaterThanOrEqual(4);
    expect(queue.filter((r) => r.status === 'running').length).toBeLessThanOrEqual(1);
    // allow: every tick made a run, side by side.
    expect(allow.length).toBeGreaterThanOrEqual(4);
    const overlapping = await waitFor('allowed runs to overlap', async () => {
      const rs = await runsOf('every-second-allow');
      return rs.filter((r) => r.status === 'running').length > 1 || maxOverlap(rs) > 1 ? rs : undefined;
    });
    expect(overlapping.length).toBeGreaterThanOrEqual(4);
    for (const r of queue)
      if (r.status === 'queued' || r.status === 'running') await call('POST', `/rest/v1/runs/${r.id}/cancel`);
    const done = await waitFor(
      'queued schedule runs to end',
      async () => {
        const rs = await runsOf('every-second-queue');
        return rs.every((r) => r.finishedAt) ? rs : undefined;
      },
      15_000,
    );
    expect(maxOverlap(done)).toBe(1);
  }, 40_000);
});
