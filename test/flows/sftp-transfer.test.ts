/**
 * Flows with an sftp connection, through the server's own services against a real OpenSSH server and
 * PostgreSQL: secrets sealed, the CSV byte path both ways, file names from parameters, and a connection
 * dropped for real in the middle of a run.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, putDefinition, type TestServer } from '../helpers/server.js';
import { type SshServer, startSshd } from '../helpers/sshd.js';
import { createPgDatabase } from '../services.js';

const by = { name: 'test' };

describe('transfer flows with an sftp connection', () => {
  let s: TestServer;
  let ssh: SshServer;
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  let pool: pg.Pool;
  let root: string;
  let admin: { authorization: string };
  const run = (flow: string, params: Record<string, string> = {}): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params, trigger: 'api', requestedBy: 'test' });
  const flow = (name: string, spec: Record<string, unknown>) => s.ctx.definitions.put('flow', name, spec, by);

  beforeAll(async () => {
    [s, ssh, db] = await Promise.all([createTestServer(), startSshd(), createPgDatabase('sftp_flow')]);
    pool = new pg.Pool({ connectionString: db.url });
    admin = await s.login('admin', 'admin-password-1');
    root = path.join(ssh.dir, 'exchange');
    await mkdir(root);
    await putDefinition(s, admin, 'connections', 'exchange', {
      type: 'sftp',
      host: ssh.host,
      port: ssh.port,
      username: ssh.username,
      privateKey: ssh.privateKey,
      hostKey: ssh.hostKey,
      root,
    });
    await s.ctx.definitions.put('connection', 'pg', { type: 'postgres', url: db.url }, by);
  });
  afterAll(async () => {
    await pool?.end();
    await s?.close();
    await ssh?.stop();
    await db?.drop();
  });

  it('keeps the key sealed: masked over the API, not in the store as text', async () => {
    const res = await s.app.inject({ url: '/rest/v1/connections/exchange', headers: admin });
    expect(res.json()).toMatchObject({ type: 'sftp', privateKey: '********' });
    expect(res.body).not.toContain('PRIVATE KEY');
    const test = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/connections/exchange/test',
      headers: admin,
    });
    expect(test.json(), test.body).toMatchObject({ ok: true });
    for (const file of await readdir(s.dataDir)) {
      if (!file.startsWith('integrator.db')) continue;
      const bytes = await readFile(path.join(s.dataDir, file));
      expect(bytes.includes(ssh.privateKey.split('\n')[1] ?? 'missing'), file).toBe(false);
      expect(bytes.includes('OPENSSH PRIVATE KEY'), file).toBe(false);
    }
  });

  it('exports a table to a CSV file on the server and loads it back, as bytes both ways', async () => {
    await pool.query('create table orders (id integer primary key, customer text, amount numeric)');
    await pool.query(
      `insert into orders select g, 'customer ' || g, g * 1.25 from generate_series(1, 3000) g`,
    );
    await flow('orders-out', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'pg', query: 'select * from orders order by id' },
          to: { connection: 'exchange', file: 'out/orders.csv', mode: 'replace' },
        },
      ],
    });
    const out = await run('orders-out');
    expect(out.status, out.error ?? '').toBe('succeeded');
    expect(out.steps[0]).toMatchObject({ path: 'copy', rowsWritten: 3000 });
    const text = await readFile(path.join(root, 'out', 'orders.csv'), 'utf8');
    expect(text.split('\n').slice(0, 2)).toEqual(['id,customer,amount', '1,customer 1,1.25']);

    await flow('orders-in', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'exchange', file: 'out/orders.csv' },
          to: { connection: 'pg', table: 'orders_back', mode: 'replace' },
        },
      ],
    });
    const back = await run('orders-in');
    expect(back.status, back.error ?? '').toBe('succeeded');
    expect(back.steps[0]).toMatchObject({ path: 'copy', rowsWritten: 3000 });
    const { rows } = await pool.query(
      'select count(*)::int n, sum(amount::numeric)::text s from orders_back',
    );
    expect(rows[0]).toEqual({ n: 3000, s: '5626875.00' });
  });

  it('reads every file a wildcard matches through transforms (the row path)', async () => {
    await writeFile(path.join(root, 'in-1.ndjson'), '{"id":1,"v":"a"}\n');
    await writeFile(path.join(root, 'in-2.ndjson'), '{"id":2,"v":"b"}\n{"id":3,"v":"c"}\n');
    await flow('wild-in', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'exchange', file: 'in-*.ndjson' },
          transforms: [{ type: 'map', compute: { w: "v & '!'" } }],
          to: { connection: 'pg', table: 'wild', mode: 'replace' },
        },
      ],
    });
    const r = await run('wild-in');
    expect(r.status, r.error ?? '').toBe('succeeded');
    expect(r.steps[0]).toMatchObject({ path: 'rows', rowsWritten: 3 });
    const { rows } = await pool.query('select id::int, w from wild order by id');
    expect(rows).toEqual([
      { id: 1, w: 'a!' },
      { id: 2, w: 'b!' },
      { id: 3, w: 'c!' },
    ]);
  });

  it('answers a file a parameter names, 404 for a missing one, 400 for one that would leave the folder', async () => {
    await writeFile(path.join(root, 'q1.csv'), 'id,total\n1,10\n');
    await putDefinition(s, admin, 'flows', 'sftp-report', {
      type: 'transfer',
      parameters: { name: { type: 'string' } },
      steps: [{ from: { connection: 'exchange', file: '{name}.csv' }, to: { connection: '@response' } }],
    });
    await putDefinition(s, admin, 'listeners', 'sftp-report', {
      path: 'sftp-reports/{name}',
      methods: ['GET'],
      flow: 'sftp-report',
    });
    const get = (name: string) =>
      s.app.inject({ method: 'GET', url: `/rest/v1/httplistener/sftp-reports/${name}`, headers: admin });
    const ok = await get('q1');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual([{ id: '1', total: '10' }]);
    const missing = await get('q9');
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json().error.code).toBe('PARAMETER_NOT_FOUND');
    for (const bad of ['a%00b', '..%5Cx', 'x..y']) {
      const res = await get(bad);
      expect(res.statusCode, `${bad}: ${res.body}`).toBe(400);
      expect(res.json().error.code).toBe('PARAMETER_INVALID');
    }
  });

  it('a connection dropped mid-run fails the run with the reason, keeps the old file, and the next run works', async () => {
    await writeFile(path.join(root, 'big.csv'), 'id,pad\nold,file\n');
    await flow('big-out', {
      type: 'transfer',
      steps: [
        {
          from: {
            connection: 'pg',
            query: "select g as id, repeat('x', 200) as pad from generate_series(1, {n}) g",
          },
          to: { connection: 'exchange', file: 'big.csv', mode: 'replace' },
        },
      ],
      parameters: { n: { type: 'integer' } },
    });
    const running = run('big-out', { n: '3000000' });
    // Kill the server's session processes once the temp file beside the target has grown.
    const deadline = Date.now() + 20_000;
    let killed = 0;
    while (Date.now() < deadline && killed === 0) {
      const temps = (await readdir(root)).filter((f) => f.startsWith('.big.csv.'));
      const sizes = await Promise.all(
        temps.map((f) =>
          stat(path.join(root, f)).then(
            (x) => x.size,
            () => 0,
          ),
        ),
      );
      if (sizes.some((n) => n > 2_000_000)) killed = ssh.killSessions();
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(killed).toBeGreaterThan(0);
    const r = await running;
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/SFTP connection to .* was lost/);
    expect(await readFile(path.join(root, 'big.csv'), 'utf8')).toBe('id,pad\nold,file\n');
    const again = await run('big-out', { n: '10' });
    expect(again.status, again.error ?? '').toBe('succeeded');
    expect((await readFile(path.join(root, 'big.csv'), 'utf8')).split('\n').length).toBe(12);
  });
});
