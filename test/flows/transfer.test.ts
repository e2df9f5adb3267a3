import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';

const by = { name: 'test' };

describe('transfer flows against real databases and files', () => {
  let s: TestServer;
  let a: Awaited<ReturnType<typeof createPgDatabase>>;
  let b: Awaited<ReturnType<typeof createPgDatabase>>;
  let m: Awaited<ReturnType<typeof createMariaDatabase>>;
  let pa: pg.Pool;
  let pb: pg.Pool;
  const run = (flow: string, params: Record<string, string> = {}): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params, trigger: 'api', requestedBy: 'test' });
  const flow = (name: string, spec: Record<string, unknown>) => s.ctx.definitions.put('flow', name, spec, by);

  beforeAll(async () => {
    s = await createTestServer();
    [a, b, m] = await Promise.all([
      createPgDatabase('flow_a'),
      createPgDatabase('flow_b'),
      createMariaDatabase('flow_m'),
    ]);
    pa = new pg.Pool({ connectionString: a.url });
    pb = new pg.Pool({ connectionString: b.url });
    mkdirSync(join(s.dataDir, 'files'), { recursive: true });
    await s.ctx.definitions.put('connection', 'a', { type: 'postgres', url: a.url }, by);
    await s.ctx.definitions.put('connection', 'b', { type: 'postgres', url: b.url }, by);
    await s.ctx.definitions.put('connection', 'm', { type: 'mysql', url: m.url }, by);
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
    await pa.query(
      `create table orders (id integer primary key, customer text, amount numeric, placed date)`,
    );
    await pa.query(
      `insert into orders select g, 'customer ' || g, g * 1.5, date '2024-01-01' + (g % 300) from generate_series(1, 5000) g`,
    );
  });
  afterAll(async () => {
    await pa.end();
    await pb.end();
    await s.close();
    await Promise.all([a.drop(), b.drop(), m.drop()]);
  });

  it('copies a PostgreSQL table to another database straight through (COPY to COPY)', async () => {
    await flow('pg-to-pg', {
      type: 'transfer',
      steps: [{ from: { connection: 'a', table: 'orders' }, to: { connection: 'b', table: 'orders_copy' } }],
    });
    const r = await run('pg-to-pg');
    expect(r.status).toBe('succeeded');
    expect(r.steps[0]).toMatchObject({ path: 'copy', rowsWritten: 5000 });
    const { rows } = await pb.query('select count(*)::int n, sum(amount)::text s from orders_copy');
    expect(rows[0]).toEqual({ n: 5000, s: '18753750.0' });
  });

  it('appends to a new CSV file as bytes, and to an existing one as rows without a second header', async () => {
    await flow('pg-append-csv', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'a', query: 'select id, customer from orders where id <= {n} order by id' },
          to: { connection: 'files', file: 'appended.csv' },
        },
      ],
    });
    const first = await run('pg-append-csv', { n: '2' });
    expect(first.steps[0]).toMatchObject({ status: 'succeeded', path: 'copy', rowsWritten: 2 });
    const second = await run('pg-append-csv', { n: '1' });
    expect(second.steps[0]).toMatchObject({ status: 'succeeded', path: 'rows', rowsWritten: 1 });
    expect(readFileSync(join(s.dataDir, 'files', 'appended.csv'), 'utf8')).toBe(
      'id,customer\n1,customer 1\n2,customer 2\n1,customer 1\n',
    );
  });

  it('maps, filters and casts rows on the way, creating the table with typed columns', async () => {
    await flow('pg-mapped', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'a', query: 'select * from orders where id <= 100' },
          transforms: [
            { type: 'filter', where: 'amount > 30' },
            {
              type: 'map',
              rename: { customer: 'name' },
              exclude: ['placed'],
              compute: { vat: 'round(amount * 0.2, 2)' },
            },
          ],
          to: { connection: 'b', table: 'big_orders', mode: 'replace' },
        },
      ],
    });
    const r = await run('pg-mapped');
    expect(r.status).toBe('succeeded');
    expect(r.steps[0]).toMatchObject({ path: 'rows', rowsRead: 100, rowsWritten: 80 });
    const { rows } = await pb.query(
      'select id, name, amount::text, vat::text from big_orders order by id limit 1',
    );
    // amount is numeric, so vat is computed exactly and keeps the scale round() gives it.
    expect(rows[0]).toEqual({ id: 21, name: 'customer 21', amount: '31.5', vat: '6.30' });
  });

  it('writes a table to a CSV file and loads it into MariaDB with upsert', async () => {
    await flow('pg-to-csv', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'a', query: 'select id, customer from orders where id <= 3 order by id' },
          to: { connection: 'files', file: 'out.csv', mode: 'replace' },
        },
      ],
    });
    expect((await run('pg-to-csv')).status).toBe('succeeded');
    expect(readFileSync(join(s.dataDir, 'files', 'out.csv'), 'utf8')).toBe(
      'id,customer\n1,customer 1\n2,customer 2\n3,customer 3\n',
    );
    await flow('csv-to-maria', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'files', file: 'out.csv' },
          transforms: [{ type: 'cast', columns: { id: 'integer' } }],
          to: { connection: 'm', table: 'customers', mode: 'upsert', keys: ['id'] },
        },
      ],
    });
    const first = await run('csv-to-maria');
    expect(first.status, first.error ?? '').toBe('succeeded');
    writeFileSync(join(s.dataDir, 'files', 'out.csv'), 'id,customer\n2,renamed\n4,new\n');
    const again = await run('csv-to-maria');
    expect(again.status).toBe('succeeded');
    const conn = await mysql.createConnection(m.url);
    const [rows] = await conn.query('select id, customer from customers order by id');
    await conn.end();
    expect(rows).toEqual([
      { id: 1, customer: 'customer 1' },
      { id: 2, customer: 'renamed' },
      { id: 3, customer: 'customer 3' },
      { id: 4, customer: 'new' },
    ]);
  });

  it('fails a malformed source file naming the file and line, and writes nothing', async () => {
    await pb.query('create table landing (id text, name text)');
    await pb.query(`insert into landing values ('keep', 'me')`);
    const cases: [string, string, string, RegExp][] = [
      ['bad.csv', 'csv', 'id,name\n1,a\n2,"b\n', /bad\.csv.*line [34]/],
      ['bad.json', 'json', '[{"id":"1","name":"a"},\n{"id":"2","name":}]', /bad\.json.*line 2/],
      [
        'bad.xml',
        'xml',
        '<rows><row><id>1</id><name>a</name></row>\n<row><id>2</id></rows>',
        /bad\.xml.*line 2/,
      ],
    ];
    for (const [file, type, text, message] of cases) {
      writeFileSync(join(s.dataDir, 'files', file), text);
      await flow(`load-${type}`, {
        type: 'transfer',
        steps: [
          { from: { connection: 'files', file }, to: { connection: 'b', table: 'landing', mode: 'replace' } },
        ],
      });
      const r = await run(`load-${type}`);
      expect(r.status, file).toBe('failed');
      expect(r.error, file).toMatch(message);
      const { rows } = await pb.query('select * from landing');
      expect(rows, file).toEqual([{ id: 'keep', name: 'me' }]);
    }
  });

  it('leaves the destination as it was when row 900,000 of 1,000,000 fails', async () => {
    const lines = ['id,amount'];
    for (let i = 1; i <= 1_000_000; i++) lines.push(i === 900_000 ? `${i},not-a-number` : `${i},${i}`);
    writeFileSync(join(s.dataDir, 'files', 'million.csv'), `${lines.join('\n')}\n`);
    await pb.query('create table million (id integer, amount integer)');
    await pb.query('insert into million values (-1, -1)');
    for (const [name, transforms] of [
      ['million-copy', []],
      ['million-rows', [{ type: 'cast', columns: { id: 'integer', amount: 'integer' } }]],
    ] as const) {
      await flow(name, {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'files', file: 'million.csv' },
            transforms,
            to: { connection: 'b', table: 'million', mode: 'replace' },
          },
        ],
      });
      const r = await run(name);
      expect(r.status, name).toBe('failed');
      expect(r.error, name).toMatch(/900000|900,000|not-a-number/);
      const { rows } = await pb.query('select * from million');
      expect(rows, name).toEqual([{ id: -1, amount: -1 }]);
    }
  }, 120_000);

  it('runs sql flows with bound parameters and pipelines that stop or continue on error', async () => {
    await flow('bump', {
      type: 'sql',
      connection: 'a',
      sql: 'update orders set amount = amount + {delta} where id = {id}',
      parameters: { delta: { type: 'number' }, id: { type: 'integer' } },
    });
    await flow('broken', { type: 'sql', connection: 'a', sql: 'select * from no_such_table' });
    await flow('stopper', {
      type: 'pipeline',
      flows: [{ flow: 'broken' }, { flow: 'bump', parameters: { delta: 1, id: 1 } }],
    });
    await flow('goer', {
      type: 'pipeline',
      onError: 'continue',
      flows: [{ flow: 'broken' }, { flow: 'bump', parameters: { delta: 1, id: 1 } }],
    });
    const stop = await run('stopper');
    expect(stop.status).toBe('failed');
    expect(stop.steps.map((x) => x.status)).toEqual(['failed']);
    expect((await pa.query('select amount::text from orders where id = 1')).rows[0].amount).toBe('1.5');
    const go = await run('goer');
    expect(go.status).toBe('failed');
    expect(go.steps.map((x) => x.status)).toEqual(['failed', 'succeeded']);
    expect((await pa.query('select amount::text from orders where id = 1')).rows[0].amount).toBe('2.5');
    const children = await s.ctx.runs.list({ trigger: 'pipeline' });
    expect(children.length).toBe(3);
  });

  it('cancels a running flow: the statement stops and nothing is written', async () => {
    await flow('slow', {
      type: 'sql',
      connection: 'a',
      sql: "insert into orders values (99999, 'x', 1, null); select pg_sleep(30)",
    });
    const started = performance.now();
    const pending = run('slow');
    let id: string | undefined;
    for (let i = 0; i < 50 && !id; i++) {
      await new Promise((r) => setTimeout(r, 100));
      id = (await s.ctx.runs.list({ flow: 'slow', status: 'running' }))[0]?.id;
    }
    expect(id).toBeDefined();
    await s.ctx.runs.cancel(id ?? '');
    const r = await pending;
    expect(r.status).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect((await pa.query('select count(*)::int n from orders where id = 99999')).rows[0].n).toBe(0);
  });
});
