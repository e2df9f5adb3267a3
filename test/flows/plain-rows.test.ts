/**
 * Field names that plain objects also answer through Object.prototype (`constructor`, `toString`,
 * `__proto__`, `hasOwnProperty`) are columns like any other: a record lacking one lands as NULL.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';

const by = { name: 'test' };
const KEYS = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
/** Record 1 has every key; the others have only `id`. */
const records = (n: number) =>
  `[{"id":1,"constructor":"a","toString":"b","__proto__":"c","hasOwnProperty":"d"}${Array.from(
    { length: n - 1 },
    (_, i) => `,{"id":${i + 2}}`,
  ).join('')}]`;

describe('rows are plain data', () => {
  let s: TestServer;
  let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;
  let maria: Awaited<ReturnType<typeof createMariaDatabase>>;
  let pool: pg.Pool;
  const run = (flow: string): Promise<Run> =>
    s.ctx.runs.runSync({ flow, params: {}, trigger: 'api', requestedBy: 'test' });
  const transfer = async (
    name: string,
    file: string,
    to: Record<string, unknown>,
    transforms?: unknown[],
  ) => {
    await s.ctx.definitions.put(
      'flow',
      name,
      {
        type: 'transfer',
        steps: [{ from: { connection: 'files', file }, to, ...(transforms ? { transforms } : {}) }],
      },
      by,
    );
    const r = await run(name);
    expect(r.status, r.error ?? '').toBe('succeeded');
    return r;
  };

  beforeAll(async () => {
    s = await createTestServer();
    [pgdb, maria] = await Promise.all([createPgDatabase('plain'), createMariaDatabase('plain')]);
    pool = new pg.Pool({ connectionString: pgdb.url });
    mkdirSync(join(s.dataDir, 'files'), { recursive: true });
    writeFileSync(join(s.dataDir, 'files', 'two.json'), records(2));
    writeFileSync(join(s.dataDir, 'files', 'many.json'), records(3000));
    await s.ctx.definitions.put('connection', 'pg', { type: 'postgres', url: pgdb.url }, by);
    await s.ctx.definitions.put('connection', 'maria', { type: 'mysql', url: maria.url }, by);
    await s.ctx.definitions.put('connection', 'files', { type: 'files', root: 'files' }, by);
  });
  afterAll(async () => {
    await pool.end();
    await s.close();
    await Promise.all([pgdb.drop(), maria.drop()]);
  });

  const pgRows = async (table: string) =>
    (
      await pool.query(
        `select id::int, ${KEYS.map((k) => `"${k}"::text as "${k}"`).join(', ')} from ${table} order by id`,
      )
    ).rows;

  it('PostgreSQL: a small write and a COPY-sized write land missing keys as NULL', async () => {
    await transfer('to-pg-small', 'two.json', { connection: 'pg', table: 'small' });
    // JSON.parse, because an object literal would take `__proto__` as its prototype, not a key.
    expect(await pgRows('small')).toEqual(
      JSON.parse(
        '[{"id":1,"constructor":"a","toString":"b","__proto__":"c","hasOwnProperty":"d"},' +
          '{"id":2,"constructor":null,"toString":null,"__proto__":null,"hasOwnProperty":null}]',
      ),
    );
    await transfer('to-pg-many', 'many.json', { connection: 'pg', table: 'many' });
    const { rows } = await pool.query(
      `select count(*)::int n, count("constructor")::int c, count("toString")::int t,
              count("__proto__")::int p, count("hasOwnProperty")::int h from many`,
    );
    expect(rows[0]).toEqual({ n: 3000, c: 1, t: 1, p: 1, h: 1 });
  });

  it('PostgreSQL upsert keyed on such a column', async () => {
    await pool.query('create table keyed ("constructor" text primary key, id int)');
    writeFileSync(
      join(s.dataDir, 'files', 'keyed.json'),
      '[{"constructor":"x","id":1},{"constructor":"y","id":2},{"constructor":"x","id":3}]',
    );
    await transfer('to-pg-keyed', 'keyed.json', {
      connection: 'pg',
      table: 'keyed',
      mode: 'upsert',
      keys: ['constructor'],
    });
    expect((await pool.query('select * from keyed order by 1')).rows).toEqual([
      { constructor: 'x', id: 3 },
      { constructor: 'y', id: 2 },
    ]);
  });

  it('MariaDB lands missing keys as NULL', async () => {
    await transfer('to-maria', 'two.json', { connection: 'maria', table: 'landed' });
    const conn = await mysql.createConnection(maria.url);
    try {
      // mysql2 refuses a result column named __proto__, so every column is read under an alias.
      const [rows] = await conn.query(
        `select id, ${KEYS.map((k, i) => `\`${k}\` as k${i}`).join(', ')} from landed order by id`,
      );
      expect(rows).toEqual([
        { id: 1, k0: 'a', k1: 'b', k2: 'c', k3: 'd' },
        { id: 2, k0: null, k1: null, k2: null, k3: null },
      ]);
    } finally {
      await conn.end();
    }
  });

  it('a CSV file gets empty fields, through transforms that touch those columns', async () => {
    await transfer('to-csv', 'two.json', { connection: 'files', file: 'out.csv' }, [
      { type: 'defaults', values: { toString: 'filled' } },
      { type: 'cast', columns: { hasOwnProperty: 'text' } },
      { type: 'map', select: ['id', 'constructor', 'toString', '__proto__', 'hasOwnProperty'] },
      { type: 'dedupe', keys: ['id', 'constructor'] },
    ]);
    expect(readFileSync(join(s.dataDir, 'files', 'out.csv'), 'utf8')).toBe(
      'id,constructor,toString,__proto__,hasOwnProperty\n1,a,b,c,d\n2,,filled,,\n',
    );
  });
});
