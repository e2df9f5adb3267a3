/**
 * Typed values across paths: doubles at their edges (-0, NaN, ±Infinity, the smallest and largest),
 * booleans in each format's spellings, dates before 1970; exact where the destination can hold them,
 * a clear refusal naming the record and field where it cannot (MariaDB has no NaN or infinity).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferFlows } from '../helpers/flows.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';

const by = { name: 'test' };
const FLOATS = ['-0', '5e-324', '1.7976931348623157e+308', '0.1', '-2.5'];
const SPECIAL = ['NaN', 'Infinity', '-Infinity'];
const DATES = ['1900-01-01', '1969-12-31', '0001-01-01', '2024-02-29'];

describe('typed values across paths', () => {
  let s: TestServer;
  let a: Awaited<ReturnType<typeof createPgDatabase>>;
  let m: Awaited<ReturnType<typeof createMariaDatabase>>;
  let pa: pg.Pool;
  let my: mysql.Connection;
  const flows = () => transferFlows(s);
  const transfer = (name: string, step: Record<string, unknown>) => flows().transfer(name, step);
  const rowPath = [{ type: 'filter', where: 'id > 0' }];
  const texts = async (table: string, column: string): Promise<string[]> =>
    (await pa.query(`select ${column}::text v from ${table} order by id`)).rows.map(
      (r: { v: string }) => r.v,
    );

  beforeAll(async () => {
    s = await createTestServer();
    [a, m] = await Promise.all([createPgDatabase('typed_a'), createMariaDatabase('typed_m')]);
    pa = new pg.Pool({ connectionString: a.url, max: 2 });
    my = await mysql.createConnection(m.url);
    await s.ctx.definitions.put('connection', 'a', { type: 'postgres', url: a.url }, by);
    await s.ctx.definitions.put('connection', 'm', { type: 'mysql', url: m.url }, by);
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
    await pa.query('create table floats (id integer primary key, f double precision)');
    for (const [i, f] of [...FLOATS, ...SPECIAL].entries())
      await pa.query('insert into floats values ($1, $2::double precision)', [i + 1, f]);
    await pa.query('create table finite (id integer primary key, f double precision, d date, b boolean)');
    for (const [i, f] of FLOATS.entries())
      await pa.query('insert into finite values ($1, $2::double precision, $3::date, $4)', [
        i + 1,
        f,
        DATES[i % DATES.length],
        i % 2 === 0,
      ]);
  }, 60_000);
  afterAll(async () => {
    await pa?.end();
    await my?.end();
    await s?.close();
    await Promise.all([a?.drop(), m?.drop()]);
  });

  const all = [...FLOATS, ...SPECIAL].map((f) =>
    f === '1.7976931348623157e+308' ? '1.7976931348623157e+308' : f,
  );

  it('doubles keep -0, NaN, ±Infinity and their extremes: PostgreSQL to PostgreSQL, CSV, JSON and back', async () => {
    await transfer('f-rows', {
      from: { connection: 'a', table: 'floats' },
      transforms: rowPath,
      to: { connection: 'a', table: 'f_rows' },
    });
    await transfer('f-copy', {
      from: { connection: 'a', table: 'floats' },
      to: { connection: 'a', table: 'f_copy' },
    });
    expect(await texts('f_rows', 'f')).toEqual(all);
    expect(await texts('f_copy', 'f')).toEqual(all);
    for (const format of ['csv', 'json'] as const)
      await flows().throughFile(
        `f-${format}`,
        'a',
        'floats',
        format,
        { id: 'integer', f: 'number' },
        `f_from_${format}`,
      );
    // CSV carries every double; JSON has no NaN or infinity and writes null for them (docs/values.md).
    expect(await texts('f_from_csv', 'f')).toEqual(all);
    expect(await texts('f_from_json', 'f')).toEqual([...FLOATS, null, null, null]);
  });

  it('MariaDB takes the finite doubles and refuses NaN and infinity, naming the record', async () => {
    await transfer('f-maria', {
      from: { connection: 'a', table: 'finite' },
      transforms: rowPath,
      to: { connection: 'm', table: 'finite' },
    });
    const [rows] = await my.query<mysql.RowDataPacket[]>('select f, d, b from finite order by id');
    // MariaDB's DOUBLE has no negative zero: -0 is stored as 0 (docs/values.md says so).
    expect(rows.map((r) => (Object.is(r['f'], -0) ? '-0' : String(r['f'])))).toEqual([
      '0',
      '5e-324',
      '1.7976931348623157e+308',
      '0.1',
      '-2.5',
    ]);
    expect(rows.map((r) => r['b'])).toEqual([1, 0, 1, 0, 1]);
    for (const [name, transforms] of [
      ['f_maria_rows', rowPath],
      ['f_maria_copy', []],
    ] as const) {
      const r = await flows().refused(name, {
        from: { connection: 'a', table: 'floats' },
        transforms,
        to: { connection: 'm', table: name },
      });
      expect(r.errorCode, `${name}: ${r.error}`).toBe('INVALID_VALUE');
      const [left] = await my.query<mysql.RowDataPacket[]>(`show tables like '${name}'`);
      expect(left, name).toEqual([]);
    }
  });

  it('dates before 1970 and booleans travel PostgreSQL -> MariaDB -> PostgreSQL unchanged', async () => {
    await transfer('d-back', {
      from: { connection: 'm', table: 'finite' },
      transforms: rowPath,
      to: { connection: 'a', table: 'from_maria' },
    });
    expect(await texts('from_maria', 'd')).toEqual(FLOATS.map((_, i) => DATES[i % DATES.length]));
    expect(await texts('from_maria', 'b')).toEqual(['true', 'false', 'true', 'false', 'true']);
  });

  it('casts booleans in every spelling a file may hold, and refuses any other', async () => {
    const spellings: [string, boolean][] = [
      ['true', true],
      ['FALSE', false],
      ['t', true],
      ['f', false],
      ['1', true],
      ['0', false],
      ['yes', true],
      ['No', false],
      ['y', true],
      ['n', false],
      ['on', true],
      ['OFF', false],
    ];
    writeFileSync(
      join(s.dataDir, 'files', 'bools.csv'),
      `id,b\n${spellings.map(([text], i) => `${i + 1},${text}`).join('\n')}\n`,
    );
    await transfer('bools', {
      from: { connection: 'files', file: 'bools.csv' },
      transforms: [{ type: 'cast', columns: { id: 'integer', b: 'boolean' } }],
      to: { connection: 'a', table: 'bools' },
    });
    expect(await texts('bools', 'b')).toEqual(spellings.map(([, b]) => String(b)));
    writeFileSync(join(s.dataDir, 'files', 'bad-bool.csv'), 'id,b\n1,true\n2,maybe\n');
    const r = await flows().refused('bad-bool', {
      from: { connection: 'files', file: 'bad-bool.csv' },
      transforms: [{ type: 'cast', columns: { b: 'boolean' } }],
      to: { connection: 'a', table: 'bad_bool' },
    });
    expect(r.error).toMatch(/record 2, column 'b'.*maybe/);
  });
});
