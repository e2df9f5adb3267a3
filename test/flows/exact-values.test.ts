/**
 * Exact values on every path: a numeric beyond a double's digits, a decimal with 30 fraction digits and
 * an int8 of 2^53 + 1 travel PostgreSQL -> PostgreSQL (row path), PostgreSQL <-> MariaDB (byte and row
 * paths), PostgreSQL -> JSON, CSV and XML files, out of a data API, and to an HTTP API and back, and
 * arrive with every digit.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { json, startTestApi } from '../connectors/http-test-api.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';

const by = { name: 'test' };
const BIG = '12345678901234567890.123456789';
const FINE = '0.123456789012345678901234567890';
const INT = '9007199254740993';

/** Decimal text without trailing fraction zeros (MariaDB pads to the column's scale). */
const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);

describe('exact values across paths', () => {
  let s: TestServer;
  let a: Awaited<ReturnType<typeof createPgDatabase>>;
  let b: Awaited<ReturnType<typeof createPgDatabase>>;
  let m: Awaited<ReturnType<typeof createMariaDatabase>>;
  let pa: pg.Pool;
  let pb: pg.Pool;
  let my: mysql.Connection;
  const run = (flow: string): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params: {}, trigger: 'api', requestedBy: 'test' });
  const flow = (name: string, spec: Record<string, unknown>) => s.ctx.definitions.put('flow', name, spec, by);
  const transfer = async (name: string, step: Record<string, unknown>): Promise<Run> => {
    await flow(name, { type: 'transfer', steps: [step] });
    const r = await run(name);
    expect(r.status, r.error ?? '').toBe('succeeded');
    return r;
  };
  const file = (name: string) => readFileSync(join(s.dataDir, 'files', name), 'utf8');

  beforeAll(async () => {
    s = await createTestServer();
    [a, b, m] = await Promise.all([
      createPgDatabase('exact_a'),
      createPgDatabase('exact_b'),
      createMariaDatabase('exact_m'),
    ]);
    pa = new pg.Pool({ connectionString: a.url, max: 2 });
    pb = new pg.Pool({ connectionString: b.url, max: 2 });
    my = await mysql.createConnection(m.url);
    mkdirSync(join(s.dataDir, 'files'), { recursive: true });
    await s.ctx.definitions.put('connection', 'a', { type: 'postgres', url: a.url }, by);
    await s.ctx.definitions.put('connection', 'b', { type: 'postgres', url: b.url }, by);
    await s.ctx.definitions.put('connection', 'm', { type: 'mysql', url: m.url }, by);
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
    await s.ctx.definitions.put('connection', 'lite', { type: 'sqlite', path: 'files/exact.db' }, by);
    await pa.query(
      'create table vals (id integer primary key, n numeric, f numeric(40,30), b bigint, t timestamptz)',
    );
    await pa.query(
      `insert into vals values (1, ${BIG}, ${FINE}, ${INT}, '2024-03-31 01:30:00.123456+02'),
                              (2, -${BIG}, -${FINE}, -${INT}, '1969-07-20 20:17:40-05'),
                              (3, null, null, null, null)`,
    );
  });
  afterAll(async () => {
    await pa.end();
    await pb.end();
    await my.end();
    await s.close();
    await Promise.all([a.drop(), b.drop(), m.drop()]);
  });

  it('PostgreSQL -> PostgreSQL on the row path, through a transform that computes with them', async () => {
    const r = await transfer('pg-pg-rows', {
      from: { connection: 'a', table: 'vals' },
      transforms: [{ type: 'map', compute: { sum: 'n + f', next: 'b + 1', half: 'n / 2' } }],
      to: { connection: 'b', table: 'vals_rows' },
    });
    expect(r.steps[0]).toMatchObject({ path: 'rows', rowsWritten: 3 });
    const { rows } = await pb.query(
      `select n::text, f::text, b::text, sum::text, next::text, half::text,
              format_type(atttypid, atttypmod) as ftype
         from vals_rows, pg_attribute where attrelid = 'vals_rows'::regclass and attname = 'f' and id = 1`,
    );
    expect(rows[0]).toEqual({
      n: BIG,
      f: FINE,
      b: INT,
      sum: '12345678901234567890.246913578012345678901234567890',
      next: '9007199254740994',
      half: '6172839450617283945.0617283945',
      ftype: 'numeric(40,30)',
    });
  });

  it('PostgreSQL -> MariaDB on the byte path: DECIMAL columns, and timestamptz as UTC DATETIME(6)', async () => {
    const r = await transfer('pg-my-copy', {
      from: { connection: 'a', table: 'vals' },
      to: { connection: 'm', table: 'vals_copy' },
    });
    expect(r.steps[0]).toMatchObject({ path: 'copy', rowsWritten: 3 });
    const [cols] = await my.query<mysql.RowDataPacket[]>(
      `select column_name c, column_type t from information_schema.columns
        where table_schema = database() and table_name = 'vals_copy' order by ordinal_position`,
    );
    expect(cols.map((c) => `${c.c} ${c.t}`)).toEqual([
      'id int(11)',
      'n decimal(65,30)',
      'f decimal(40,30)',
      'b bigint(20)',
      't datetime(6)',
    ]);
    const [rows] = await my.query<mysql.RowDataPacket[]>(
      'select cast(n as char) n, cast(f as char) f, cast(b as char) b, cast(t as char) t from vals_copy order by id',
    );
    expect(rows.map((x) => [trim(String(x.n)), x.f, x.b, x.t])).toEqual([
      [BIG, FINE, INT, '2024-03-30 23:30:00.123456'],
      [`-${BIG}`, `-${FINE}`, `-${INT}`, '1969-07-21 01:17:40.000000'],
      ['null', null, null, null],
    ]);
  });

  it('PostgreSQL -> MariaDB on the row path', async () => {
    const r = await transfer('pg-my-rows', {
      from: { connection: 'a', table: 'vals' },
      transforms: [{ type: 'filter', where: 'b > 0' }],
      to: { connection: 'm', table: 'vals_rows' },
    });
    expect(r.steps[0]).toMatchObject({ path: 'rows', rowsWritten: 1 });
    const [rows] = await my.query<mysql.RowDataPacket[]>(
      'select cast(n as char) n, cast(f as char) f, cast(b as char) b from vals_rows',
    );
    expect(rows.map((x) => [trim(String(x.n)), x.f, x.b])).toEqual([[BIG, FINE, INT]]);
  });

  it('MariaDB -> PostgreSQL keeps DECIMAL(p,s) and BIGINT exact', async () => {
    await my.query('create table src (id int primary key, n decimal(65,30), f decimal(40,30), b bigint)');
    await my.query(`insert into src values (1, ${BIG}, ${FINE}, ${INT}), (2, null, null, null)`);
    const r = await transfer('my-pg', {
      from: { connection: 'm', table: 'src' },
      to: { connection: 'b', table: 'from_maria' },
    });
    expect(r.steps[0]).toMatchObject({ rowsWritten: 2 });
    const { rows } = await pb.query(
      `select n::text, f::text, b::text, pg_typeof(b)::text bt,
              (select format_type(atttypid, atttypmod) from pg_attribute
                where attrelid = 'from_maria'::regclass and attname = 'n') nt
         from from_maria order by id`,
    );
    expect(rows[0]).toEqual({
      n: `${BIG}000000000000000000000`,
      f: FINE,
      b: INT,
      bt: 'bigint',
      nt: 'numeric(65,30)',
    });
    expect(rows[1]).toMatchObject({ n: null, f: null, b: null });
  });

  it('PostgreSQL -> JSON, CSV and XML files: every digit, numbers in JSON', async () => {
    const rowPath = [{ type: 'filter', where: 'id = 1' }];
    await transfer('pg-json', {
      from: { connection: 'a', table: 'vals' },
      transforms: rowPath,
      to: { connection: 'files', file: 'vals.json' },
    });
    const json = file('vals.json');
    expect(json).toContain(`"n":${BIG},"f":${FINE},"b":${INT}`);
    await transfer('pg-csv', {
      from: { connection: 'a', table: 'vals' },
      transforms: rowPath,
      to: { connection: 'files', file: 'vals.csv' },
    });
    // The row path keeps the timestamp's microseconds too.
    expect(json).toContain('"2024-03-30T23:30:00.123456Z"');
    expect(file('vals.csv').split('\n')[1]).toBe(`1,${BIG},${FINE},${INT},2024-03-30T23:30:00.123456Z`);
    await transfer('pg-xml', {
      from: { connection: 'a', table: 'vals' },
      transforms: rowPath,
      to: { connection: 'files', file: 'vals.xml' },
    });
    expect(file('vals.xml')).toContain(`<n>${BIG}</n><f>${FINE}</f><b>${INT}</b>`);
    expect(file('vals.xml')).toContain('2024-03-30T23:30:00.123456Z');
    // And back: the JSON file read into PostgreSQL lands exactly.
    await transfer('json-pg', {
      from: { connection: 'files', file: 'vals.json' },
      to: { connection: 'b', table: 'from_json' },
    });
    const { rows } = await pb.query('select n::text, f::text, b::text from from_json');
    expect(rows[0]).toEqual({ n: BIG, f: FINE, b: INT });
  });

  it('PostgreSQL -> an HTTP API and back: request bodies and answers keep every digit', async () => {
    const api = await startTestApi();
    try {
      let stored = '';
      api.route('/vals', (req, res) => {
        if (req.method === 'POST') {
          stored = req.body;
          return json(res, 201, {});
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"items": ${stored}}`);
      });
      await s.ctx.definitions.put('connection', 'api', { type: 'http', baseUrl: api.url }, by);
      await transfer('pg-http', {
        from: { connection: 'a', query: 'select id, n, f, b from vals order by id' },
        to: { connection: 'api', request: { path: 'vals' } },
      });
      expect(stored).toContain(`{"id":1,"n":${BIG},"f":${FINE},"b":${INT}}`);
      expect(stored).toContain(`{"id":2,"n":-${BIG},"f":-${FINE},"b":-${INT}}`);
      await transfer('http-pg', {
        from: { connection: 'api', request: { path: 'vals', records: 'items' } },
        to: { connection: 'b', table: 'from_http' },
      });
      const { rows } = await pb.query('select n::text, f::text, b::text from from_http order by id');
      expect(rows.slice(0, 2)).toEqual([
        { n: BIG, f: FINE, b: INT },
        { n: `-${BIG}`, f: `-${FINE}`, b: `-${INT}` },
      ]);
    } finally {
      await api.close();
    }
  });

  it('answers a data API call with every digit, as JSON numbers', async () => {
    await flow('vals-out', {
      type: 'transfer',
      parameters: { id: { type: 'integer' } },
      steps: [
        {
          from: { connection: 'a', query: 'select id, n, f, b from vals where id = {id}' },
          to: { connection: '@response' },
        },
      ],
    });
    await flow('vals-all', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'a', query: 'select id, n, f, b from vals order by id' },
          to: { connection: '@response' },
        },
      ],
    });
    await s.ctx.definitions.put(
      'listener',
      'vals-one',
      { path: 'vals/{id}', methods: ['GET'], flow: 'vals-out', response: { single: true } },
      by,
    );
    await s.ctx.definitions.put(
      'listener',
      'vals-all',
      { path: 'vals', methods: ['GET'], flow: 'vals-all' },
      by,
    );
    const admin = await s.login('admin', 'admin-password-1');
    const one = await s.app.inject({ method: 'GET', url: '/rest/v1/httplistener/vals/1', headers: admin });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.body).toBe(`{"id":1,"n":${BIG},"f":${FINE},"b":${INT}}`);
    const all = await s.app.inject({ method: 'GET', url: '/rest/v1/httplistener/vals', headers: admin });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.body).toContain(`{"id":2,"n":-${BIG},"f":-${FINE},"b":-${INT}}`);
  });

  it('creates tables whose columns hold every value of the first records: 12 then 11.5 is a decimal', async () => {
    writeFileSync(join(s.dataDir, 'files', 'mixed.json'), '[{"a": 12, "b": 7}, {"a": 11.5, "b": "yes"}]');
    for (const [to, table] of [
      ['b', 'mixed'],
      ['m', 'mixed'],
      ['lite', 'mixed'],
    ] as const) {
      const r = await transfer(`mixed-${to}`, {
        from: { connection: 'files', file: 'mixed.json' },
        to: { connection: to, table },
      });
      expect(r.steps[0]).toMatchObject({ rowsWritten: 2 });
    }
    const { rows } = await pb.query(
      'select a::text, b, pg_typeof(a)::text at, pg_typeof(b)::text bt from mixed order by a',
    );
    expect(rows).toEqual([
      { a: '11.5', b: 'yes', at: 'numeric', bt: 'text' },
      { a: '12', b: '7', at: 'numeric', bt: 'text' },
    ]);
    const [my1] = await my.query<mysql.RowDataPacket[]>('select cast(a as char) a, b from mixed order by a');
    expect(my1.map((x) => [trim(String(x.a)), x.b])).toEqual([
      ['11.5', 'yes'],
      ['12', '7'],
    ]);
    const lite = new Database(join(s.dataDir, 'files', 'exact.db'), { readonly: true });
    const declared = lite.prepare("select type from pragma_table_info('mixed') where name = 'a'").get();
    const stored = lite.prepare('select a, typeof(a) t from mixed order by rowid').all();
    lite.close();
    expect(declared).toEqual({ type: 'DECIMAL TEXT' });
    expect(stored).toEqual([
      { a: '12', t: 'text' },
      { a: '11.5', t: 'text' },
    ]);
  });

  it('fails a later record a created column cannot take, naming it, and reports nothing written', async () => {
    const records = Array.from({ length: 2500 }, (_, i) => `{"id": ${i + 1}, "a": ${i}}`);
    records[2200] = '{"id": 2201, "a": "not a number at all, and rather long text"}';
    const admin = await s.login('admin', 'admin-password-1');
    writeFileSync(join(s.dataDir, 'files', 'late.json'), `[${records.join(',\n')}]`);
    for (const to of ['b', 'm', 'lite']) {
      await flow(`late-${to}`, {
        type: 'transfer',
        steps: [{ from: { connection: 'files', file: 'late.json' }, to: { connection: to, table: 'late' } }],
      });
      const r = await run(`late-${to}`);
      expect(r.status).toBe('failed');
      expect(r.errorCode).toBe('INVALID_VALUE');
      expect(r.error).toContain("record 2201, field 'a'");
      expect(r.error).toContain('"not a number at all, and rather long te…');
      expect(r.steps[0]).toMatchObject({ status: 'failed', rowsWritten: 0 });
      // The runs API answers the code later too: it is kept with the run.
      const stored = await s.app.inject({ method: 'GET', url: `/rest/v1/runs/${r.id}`, headers: admin });
      expect(stored.json()).toMatchObject({ status: 'failed', errorCode: 'INVALID_VALUE' });
    }
    expect((await pb.query("select to_regclass('late') t")).rows[0]).toEqual({ t: null });
    const [left] = await my.query<mysql.RowDataPacket[]>("show tables like 'late'");
    expect(left).toEqual([]);
  });

  it('refuses text with NUL on the way into PostgreSQL, naming the record, on the small and the COPY write', async () => {
    for (const [name, count] of [
      ['nul-small', 3],
      ['nul-copy', 5000],
    ] as const) {
      const records = Array.from({ length: count }, (_, i) => ({ id: i + 1, t: `row ${i + 1}` }));
      records[count - 2] = { id: count - 1, t: 'a\u0000b' };
      writeFileSync(join(s.dataDir, 'files', `${name}.json`), JSON.stringify(records));
      await flow(name, {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'files', file: `${name}.json` },
            to: { connection: 'b', table: name.replace('-', '_') },
          },
        ],
      });
      const r = await run(name);
      expect(r.status, name).toBe('failed');
      expect(r.errorCode, r.error ?? '').toBe('INVALID_VALUE');
      expect(r.error).toContain(`record ${count - 1}, field 't'`);
      expect(r.error).toContain('NUL character');
      expect(r.steps[0]).toMatchObject({ rowsWritten: 0 });
      const left = await pb.query(`select to_regclass('${name.replace('-', '_')}') t`);
      expect(left.rows[0]).toEqual({ t: null });
    }
  });

  it('fails a decimal MariaDB cannot hold exactly (31 fraction digits) on both paths, leaving no table', async () => {
    await pa.query(`create table too_fine (id integer, n numeric)`);
    await pa.query(`insert into too_fine values (1, 0.1234567890123456789012345678901)`);
    for (const [name, transforms] of [
      ['too-fine-copy', []],
      ['too-fine-rows', [{ type: 'filter', where: 'id = 1' }]],
    ] as const) {
      await flow(name, {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'a', table: 'too_fine' },
            transforms,
            to: { connection: 'm', table: name.replaceAll('-', '_') },
          },
        ],
      });
      const r = await run(name);
      expect(r.status, name).toBe('failed');
      expect(r.errorCode, `${name}: ${r.error}`).toBe('INVALID_VALUE');
      expect(r.steps[0]).toMatchObject({ rowsWritten: 0 });
      const [left] = await my.query<mysql.RowDataPacket[]>(`show tables like '${name.replaceAll('-', '_')}'`);
      expect(left).toEqual([]);
    }
  });

  it('lists decimal columns with their precision and scale', async () => {
    const admin = await s.login('admin', 'admin-password-1');
    const res = await s.app.inject({ method: 'GET', url: '/rest/v1/connections/a/tables', headers: admin });
    expect(res.statusCode, res.body).toBe(200);
    const vals = (res.json() as { name: string; columns: { name: string }[] }[]).find(
      (t) => t.name === 'vals',
    );
    expect(vals?.columns.filter((c) => c.name === 'n' || c.name === 'f')).toEqual([
      { name: 'n', type: 'decimal', nullable: true },
      { name: 'f', type: 'decimal', nullable: true, precision: 40, scale: 30 },
    ]);
  });
});
