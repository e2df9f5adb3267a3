import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

const by = { name: 'test' };

describe('parameters are bound, never spliced', () => {
  let s: TestServer;
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  let pool: pg.Pool;
  const run = (flow: string, params: Record<string, string>): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params, trigger: 'api', requestedBy: 'test' });

  beforeAll(async () => {
    s = await createTestServer();
    db = await createPgDatabase('params');
    pool = new pg.Pool({ connectionString: db.url });
    await pool.query('create table role (role integer primary key, name text)');
    await pool.query(`insert into role values (1, 'admin'), (2, 'editor'), (3, 'operator')`);
    await s.ctx.definitions.put('connection', 'db', { type: 'postgres', url: db.url }, by);
    // Undeclared parameter: bound as text, PostgreSQL infers its type from the comparison.
    await s.ctx.definitions.put(
      'flow',
      'by-role',
      {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'db', query: 'select * from role where role = {roleid}' },
            to: { connection: 'db', table: 'picked', mode: 'replace' },
          },
        ],
      },
      by,
    );
    await s.ctx.definitions.put(
      'flow',
      'by-name',
      {
        type: 'transfer',
        parameters: { who: { type: 'string' } },
        steps: [
          {
            from: { connection: 'db', query: "select * from role where name = {who} or name = '{who}'" },
            to: { connection: 'db', table: 'picked', mode: 'replace' },
          },
        ],
      },
      by,
    );
    await s.ctx.definitions.put(
      'flow',
      'to-table',
      {
        type: 'transfer',
        parameters: { t: { type: 'string' } },
        steps: [
          {
            from: { connection: 'db', table: 'role' },
            to: { connection: 'db', table: 'copy_{t}', mode: 'replace' },
          },
        ],
      },
      by,
    );
  });
  afterAll(async () => {
    await pool.end();
    await s.close();
    await db.drop();
  });

  const picked = async () =>
    (await pool.query('select role from picked order by role')).rows.map((r) => r.role);
  const roles = async () => (await pool.query('select count(*)::int n from role')).rows[0].n;

  it('binds a good value', async () => {
    expect((await run('by-role', { roleid: '2' })).status).toBe('succeeded');
    expect(await picked()).toEqual([2]);
  });

  it.each(['2 or 1=1', '1; drop table role', "1' or '1'='1", '2); delete from role; --'])(
    'does not let %j change the query',
    async (value) => {
      const r = await run('by-role', { roleid: value });
      // PostgreSQL refuses the text as an integer: the run fails, nothing else happens.
      expect(r.status).toBe('failed');
      expect(await roles()).toBe(3);
    },
  );

  it('binds quotes in text values, and leaves {name} inside string literals alone', async () => {
    expect((await run('by-name', { who: "editor' or 'x'='x" })).status).toBe('succeeded');
    expect(await picked()).toEqual([]);
    expect((await run('by-name', { who: 'editor' })).status).toBe('succeeded');
    expect(await picked()).toEqual([2]);
    expect(await roles()).toBe(3);
  });

  it('refuses a table-name parameter that is not a plain identifier', async () => {
    const bad = await run('to-table', { t: 'x; drop table role' });
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatch(/parameter 't' is not allowed in a table name/);
    expect(await roles()).toBe(3);
    expect((await run('to-table', { t: 'ok' })).status).toBe('succeeded');
    expect((await pool.query('select count(*)::int n from copy_ok')).rows[0].n).toBe(3);
  });

  it('refuses a file-name parameter that climbs out of the folder', async () => {
    await s.ctx.definitions.put('connection', 'out', { type: 'files', root: 'files' }, by);
    await s.ctx.definitions.put(
      'flow',
      'to-file',
      {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'db', table: 'role' },
            to: { connection: 'out', file: '{f}.csv', mode: 'replace' },
          },
        ],
      },
      by,
    );
    for (const f of ['../escape', '/etc/passwd', 'a/../../b', '..']) {
      const r = await run('to-file', { f });
      expect(r.status, f).toBe('failed');
      expect(r.error, f).toMatch(/parameter 'f' is not allowed in a file name/);
    }
  });

  it('checks declared types and names the parameter', async () => {
    await s.ctx.definitions.put(
      'flow',
      'typed',
      {
        type: 'sql',
        connection: 'db',
        sql: 'select {n}::int, {d}::date, {b}::boolean, {x}::numeric',
        parameters: {
          n: { type: 'integer' },
          d: { type: 'date', default: '2024-02-29' },
          b: { type: 'boolean', default: false },
          x: { type: 'number', default: 1.5 },
        },
      },
      by,
    );
    expect((await run('typed', { n: '7' })).status).toBe('succeeded');
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /parameter 'n' is required/],
      [{ n: '7.5' }, /parameter 'n' must be an integer/],
      [{ n: '1', d: '2023-02-29' }, /parameter 'd' must be a date/],
      [{ n: '1', b: 'maybe' }, /parameter 'b' must be true or false/],
      [{ n: '1', x: 'abc' }, /parameter 'x' must be a number/],
    ];
    for (const [params, message] of cases) {
      const r = await run('typed', params);
      expect(r.status, JSON.stringify(params)).toBe('failed');
      expect(r.error).toMatch(message);
    }
  });
});
