/**
 * Timestamps land to the microsecond on every path: PostgreSQL timestamptz and timestamp(6), MariaDB
 * DATETIME(6), SQLite text, JSON/CSV files, casts from text; across DST changes (Europe/Berlin), before
 * 1970, and a clear refusal where MariaDB cannot hold the value (a year BC).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferFlows } from '../helpers/flows.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';

const by = { name: 'test' };
/** timestamptz text and the UTC instant it stands for, to the microsecond. */
const INSTANTS: [string, string][] = [
  ['2024-03-31 01:59:59.999999+01', '2024-03-31T00:59:59.999999Z'], // just before Berlin springs forward
  ['2024-03-31 03:00:00.000001+02', '2024-03-31T01:00:00.000001Z'], // just after
  ['2024-10-27 02:30:00.5+02', '2024-10-27T00:30:00.500000Z'], // the hour that happens twice, first time
  ['2024-10-27 02:30:00.5+01', '2024-10-27T01:30:00.500000Z'], // and second time
  ['1969-12-31 23:59:59.999999+00', '1969-12-31T23:59:59.999999Z'],
  ['1900-01-01 00:00:00.000123+00', '1900-01-01T00:00:00.000123Z'],
  ['2024-02-29 12:00:00+05:30', '2024-02-29T06:30:00.000000Z'],
];

describe('timestamps to the microsecond', () => {
  let s: TestServer;
  let a: Awaited<ReturnType<typeof createPgDatabase>>;
  let m: Awaited<ReturnType<typeof createMariaDatabase>>;
  let pa: pg.Pool;
  let my: mysql.Connection;
  const flows = () => transferFlows(s);
  const transfer = (name: string, step: Record<string, unknown>) => flows().transfer(name, step);
  const rowPath = [{ type: 'filter', where: 'id > 0' }];

  beforeAll(async () => {
    s = await createTestServer();
    [a, m] = await Promise.all([createPgDatabase('ts_a'), createMariaDatabase('ts_m')]);
    pa = new pg.Pool({ connectionString: a.url, max: 2 });
    my = await mysql.createConnection({ uri: m.url, timezone: 'Z', dateStrings: true });
    await s.ctx.definitions.put('connection', 'a', { type: 'postgres', url: a.url }, by);
    await s.ctx.definitions.put('connection', 'm', { type: 'mysql', url: m.url }, by);
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
    await s.ctx.definitions.put('connection', 'lite', { type: 'sqlite', path: 'files/ts.db' }, by);
    await pa.query("set timezone = 'UTC'");
    await pa.query('create table tz (id integer primary key, t timestamptz, l timestamp(6))');
    for (const [i, [text]] of INSTANTS.entries())
      await pa.query('insert into tz values ($1, $2::timestamptz, ($2::timestamptz at time zone $3))', [
        i + 1,
        text,
        'UTC',
      ]);
  }, 60_000);
  afterAll(async () => {
    await pa?.end();
    await my?.end();
    await s?.close();
    await Promise.all([a?.drop(), m?.drop()]);
  });

  const expected = INSTANTS.map(([, utc]) => utc);
  const pgBack = async (table: string, column = 't'): Promise<string[]> =>
    (
      await pa.query(
        `select to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') v from ${table} order by id`,
      )
    ).rows.map((r: { v: string }) => r.v);

  it('PostgreSQL -> PostgreSQL on the row path keeps every microsecond, with and without time zone', async () => {
    await transfer('ts-pg-pg', {
      from: { connection: 'a', table: 'tz' },
      transforms: rowPath,
      to: { connection: 'a', table: 'tz_copy' },
    });
    expect(await pgBack('tz_copy')).toEqual(expected);
    const l = await pa.query(`select to_char(l, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') v from tz_copy order by id`);
    expect(l.rows.map((r: { v: string }) => r.v)).toEqual(expected);
  });

  it('PostgreSQL -> MariaDB DATETIME(6) on both paths, and back', async () => {
    for (const [name, transforms] of [
      ['ts_maria_rows', rowPath],
      ['ts_maria_copy', []],
    ] as const) {
      await transfer(name, {
        from: { connection: 'a', table: 'tz' },
        transforms,
        to: { connection: 'm', table: name },
      });
      const [rows] = await my.query<mysql.RowDataPacket[]>(`select t from ${name} order by id`);
      expect(
        rows.map((r) => `${String(r['t']).replace(' ', 'T')}Z`),
        name,
      ).toEqual(expected);
    }
    await transfer('ts-maria-pg', {
      from: { connection: 'm', table: 'ts_maria_rows' },
      transforms: rowPath,
      to: { connection: 'a', table: 'from_maria' },
    });
    expect(await pgBack('from_maria')).toEqual(expected);
  });

  it('PostgreSQL -> SQLite, JSON and CSV files, and the files back into PostgreSQL', async () => {
    await transfer('ts-lite', {
      from: { connection: 'a', table: 'tz' },
      transforms: rowPath,
      to: { connection: 'lite', table: 'tz' },
    });
    const lite = new Database(join(s.dataDir, 'files', 'ts.db'), { readonly: true });
    const stored = lite.prepare('select t from tz order by id').all() as { t: string }[];
    lite.close();
    // A plain Date (no microseconds) prints three fraction digits: the same instant.
    expect(stored.map((r) => r.t.replace(/\.(\d{3})Z$/, '.$1000Z'))).toEqual(expected);
    await transfer('ts-lite-pg', {
      from: { connection: 'lite', table: 'tz' },
      transforms: rowPath,
      to: { connection: 'a', table: 'from_lite' },
    });
    expect(await pgBack('from_lite')).toEqual(expected);

    for (const format of ['json', 'csv'] as const) {
      await flows().throughFile(
        `ts-${format}`,
        'a',
        'tz',
        format,
        { t: 'timestamp', l: 'timestamp' },
        `from_${format}`,
      );
      expect(await pgBack(`from_${format}`), format).toEqual(expected);
    }
  });

  it('reads text with offsets into instants to the microsecond, refusing digits it would lose', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(s.dataDir, 'files', 'offsets.csv'),
      `id,t\n${INSTANTS.map(([text], i) => `${i + 1},${text.replace(' ', 'T')}`).join('\n')}\n`,
    );
    await transfer('ts-offsets', {
      from: { connection: 'files', file: 'offsets.csv' },
      transforms: [{ type: 'cast', columns: { id: 'integer', t: 'timestamp' } }],
      to: { connection: 'a', table: 'from_offsets' },
    });
    expect(await pgBack('from_offsets')).toEqual(expected);
    writeFileSync(join(s.dataDir, 'files', 'nanos.csv'), 'id,t\n1,2024-01-01T00:00:00.123456789Z\n');
    const r = await flows().refused('ts-nanos', {
      from: { connection: 'files', file: 'nanos.csv' },
      transforms: [{ type: 'cast', columns: { t: 'timestamp' } }],
      to: { connection: 'a', table: 'nanos' },
    });
    expect(r.errorCode).toBe('INVALID_VALUE');
    expect(r.error).toContain('2024-01-01T00:00:00.123456789Z');
  });

  it('computes with microseconds: comparisons and format_date', async () => {
    await transfer('ts-expr', {
      from: { connection: 'a', table: 'tz' },
      transforms: [
        { type: 'filter', where: "t > '2024-03-31T00:59:59.999998Z' and t < '2024-03-31T01:00:00.000002Z'" },
        { type: 'map', compute: { f: "format_date(t, 'YYYY-MM-DD HH:mm:ss.SSSSSS')" } },
      ],
      to: { connection: 'a', table: 'ts_expr' },
    });
    const { rows } = await pa.query('select id, f from ts_expr order by id');
    expect(rows).toEqual([
      { id: 1, f: '2024-03-31 00:59:59.999999' },
      { id: 2, f: '2024-03-31 01:00:00.000001' },
    ]);
  });

  it('fails clearly where MariaDB cannot hold a timestamp (a year BC), writing nothing', async () => {
    await pa.query(
      "create table old (id integer, t timestamptz); insert into old values (1, '0044-03-15 12:00:00+00 BC')",
    );
    const r = await flows().refused('ts-old', {
      from: { connection: 'a', table: 'old' },
      transforms: rowPath,
      to: { connection: 'm', table: 'old' },
    });
    expect(r.errorCode, r.error ?? '').toBe('INVALID_VALUE');
  });
});
