/**
 * One `integrator start` process on the embedded SQLite store, killed with SIGKILL and started again on
 * the same data directory: queued runs survive, interrupted runs are retried or failed with a reason,
 * and schedules make up (or skip) the ticks missed while it was down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';
import { sleep, waitFor } from '../runs/helpers.js';
import { createPgDatabase } from '../services.js';

const PASSWORD = 'embedded-admin-pw';
const env = { INTEGRATOR_ADMIN_PASSWORD: PASSWORD, INTEGRATOR_WORKERS: '2' };
let dataDir: string;
let data: Awaited<ReturnType<typeof createPgDatabase>>;
let proc: ServerProcess | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'integrator-embedded-'));
  data = await createPgDatabase('embedded');
  const c = new pg.Client({ connectionString: data.url });
  await c.connect();
  await c.query('create table hits (n int not null)');
  await c.query('create table pause (s float not null)');
  await c.query('insert into pause values (30)');
  await c.end();
});

afterAll(async () => {
  await proc?.kill('SIGTERM');
  await data?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('embedded mode across a SIGKILL', () => {
  it('keeps queued runs, recovers interrupted ones and handles missed schedule ticks', async () => {
    proc = await startProcess('all', env, dataDir);
    let client = await apiClient(proc.url, PASSWORD);
    await client.call('PUT', '/rest/v1/connections/data', { type: 'postgres', url: data.url });
    // Sleeps as long as the pause table says: long before the kill, not at all after it.
    const sleepy = { type: 'sql', connection: 'data', sql: 'select pg_sleep((select s from pause))' };
    await client.call('PUT', '/rest/v1/flows/long-retry', { ...sleepy, retry: { attempts: 2, delay: 0 } });
    await client.call('PUT', '/rest/v1/flows/long-once', sleepy);
    await client.call('PUT', '/rest/v1/flows/quick', {
      type: 'sql',
      connection: 'data',
      sql: 'insert into hits (n) values ({n})',
      parameters: { n: { type: 'integer' } },
    });
    await client.call('PUT', '/rest/v1/flows/mark', { type: 'sql', connection: 'data', sql: 'select 1' });
    for (const [name, missed] of [
      ['catch-up', 'run-once'],
      ['no-catch-up', 'skip'],
    ])
      await client.call('PUT', `/rest/v1/schedules/${name}`, {
        flow: 'mark',
        cron: '*/10 * * * * *',
        missed,
      });

    const enqueue = async (flow: string, q = '') =>
      (await client.call<{ runId: string }>('POST', `/rest/v1/flows/flow-name/${flow}/run?async=true${q}`))
        .body.runId;
    const retried = await enqueue('long-retry');
    const failed = await enqueue('long-once');
    await waitFor('both long runs to start', async () => {
      const a = (await client.call<Run>('GET', `/rest/v1/runs/${retried}`)).body;
      const b = (await client.call<Run>('GET', `/rest/v1/runs/${failed}`)).body;
      return a.status === 'running' && b.status === 'running' ? true : undefined;
    });
    const quick = await Promise.all([1, 2, 3, 4, 5].map((n) => enqueue('quick', `&n=${n}`)));
    await proc.kill('SIGKILL');
    const killedAt = Date.now();
    const c = new pg.Client({ connectionString: data.url });
    await c.connect();
    await c.query('update pause set s = 0');
    await c.end();
    // Stay down across a tick (every 10 s), and come back well before the next one.
    await sleep(Math.ceil(Date.now() / 10_000) * 10_000 - Date.now() + 300);

    proc = await startProcess('all', env, dataDir);
    const readyAt = Date.now();
    client = await apiClient(proc.url, PASSWORD);
    const final = async (id: string) =>
      waitFor(`run ${id} to finish`, async () => {
        const r = (await client.call<Run>('GET', `/rest/v1/runs/${id}`)).body;
        return r.finishedAt ? r : undefined;
      });
    const r1 = await final(retried);
    expect(r1).toMatchObject({ status: 'succeeded', attempt: 2 });
    const r2 = await final(failed);
    expect(r2.status).toBe('failed');
    expect(r2.error).toMatch(/^Interrupted: worker .* stopped while the run was in progress/);
    for (const id of quick) expect((await final(id)).status).toBe('succeeded');

    type Fire = { tick: string; firedAt: string; outcome: string };
    const missedFires = async (name: string) =>
      (await client.call<Fire[]>('GET', `/rest/v1/schedules/${name}/fires`)).body.filter(
        (f) => Date.parse(f.tick) > killedAt && Date.parse(f.tick) < readyAt,
      );
    const madeUp = await missedFires('catch-up');
    expect(madeUp).toHaveLength(1);
    expect(madeUp[0]?.outcome).toBe('queued');
    expect(await missedFires('no-catch-up')).toHaveLength(0);
  }, 90_000);
});
