/**
 * The node-postgres and pg-cursor internals the PostgreSQL connector relies on (pg-internals.ts) are
 * still there, with the shape it expects, and still work against a real server. An upgrade of pg or
 * pg-cursor that removes or reshapes one fails here.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backendPid,
  CURSOR_CLOSE_PORTAL,
  corked,
  PacketCursor,
  PG_PREPARE_VALUE,
  PG_RESULT,
  type PgProtocol,
  prepareValue,
  submit,
  TypedSubmittable,
} from '../../src/connectors/postgres/pg-internals.js';
import { pgTypeParsers } from '../../src/connectors/postgres/postgres-types.js';
import type { Row } from '../../src/core/records.js';
import { createPgDatabase } from '../services.js';

function versionOf(pkg: string): unknown {
  // Some of them do not export their package.json; it sits beside the node_modules entry.
  const file = new URL(`../../node_modules/${pkg}/package.json`, import.meta.url);
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return typeof json === 'object' && json !== null ? Reflect.get(json, 'version') : undefined;
}

describe('pg internals', () => {
  it('sit behind exact version pins that match what is installed', () => {
    const manifest: unknown = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    );
    const deps: unknown =
      typeof manifest === 'object' && manifest ? Reflect.get(manifest, 'dependencies') : {};
    for (const pkg of ['pg', 'pg-cursor', 'pg-copy-streams']) {
      const pinned: unknown = typeof deps === 'object' && deps ? Reflect.get(deps, pkg) : undefined;
      expect(pinned, pkg).toMatch(/^\d+\.\d+\.\d+$/);
      expect(versionOf(pkg), pkg).toBe(pinned);
    }
  });

  it("pg/lib/utils prepareValue turns values into pg's wire text", () => {
    expect(typeof PG_PREPARE_VALUE).toBe('function');
    expect(prepareValue(null)).toBeNull();
    expect(prepareValue(42)).toBe('42');
    expect(prepareValue([1, null, 'a"b'])).toBe('{"1",NULL,"a\\"b"}');
    expect(prepareValue({ a: 1 })).toBe('{"a":1}');
    const bytes = Buffer.from([1, 2]);
    expect(prepareValue(bytes)).toBe(bytes);
    expect(prepareValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toMatch(/^2024-01-0[12]T/);
  });

  it('pg.Result is a row parser class', () => {
    expect(typeof PG_RESULT).toBe('function');
    const proto: unknown = typeof PG_RESULT === 'function' ? PG_RESULT.prototype : undefined;
    for (const method of ['addFields', 'parseRow']) {
      expect(typeof (proto && Reflect.get(proto, method)), method).toBe('function');
    }
  });

  it('pg-cursor still closes its portal through _closePortal', () => {
    expect(typeof CURSOR_CLOSE_PORTAL).toBe('function');
  });

  describe('against PostgreSQL', () => {
    let pool: pg.Pool;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const db = await createPgDatabase('pginternals');
      drop = db.drop;
      pool = new pg.Pool({ connectionString: db.url, max: 2, types: pgTypeParsers });
    });
    afterAll(async () => {
      await pool.end();
      await drop();
    });

    it("backendPid is the client's server process", async () => {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        expect(backendPid(client)).toBe(rows[0]?.pid);
      } finally {
        client.release();
      }
    });

    it("corked holds the client's socket writes back until fn returns", async () => {
      const client = await pool.connect();
      try {
        const stream: unknown = Reflect.get(Reflect.get(client, 'connection'), 'stream');
        const depth = () =>
          typeof stream === 'object' && stream ? Reflect.get(stream, 'writableCorked') : -1;
        expect(depth()).toBe(0);
        expect(corked(client, () => depth())).toBe(1);
        expect(depth()).toBe(0);
      } finally {
        client.release();
      }
    });

    it('a TypedSubmittable gets the pool type parsers and runs a real query', async () => {
      class OneQuery extends TypedSubmittable {
        readonly rows: Row[] = [];
        constructor(private readonly done: (err?: unknown) => void) {
          super();
        }
        submit(connection: PgProtocol): null {
          connection.parse({ text: 'select $1::int8 as n, $2::date as d' });
          connection.describe({ type: 'S', name: '' });
          connection.bind({
            portal: '',
            statement: '',
            values: [7, '2024-02-29'],
            valueMapper: prepareValue,
          });
          connection.execute({ portal: '', rows: 0 });
          connection.sync();
          return null;
        }
        handleRowDescription(msg: { fields: unknown[] }): void {
          this.rowParser.addFields(msg.fields);
        }
        handleDataRow(msg: { fields: unknown[] }): void {
          this.rows.push(this.rowParser.parseRow(msg.fields));
        }
        handleCommandComplete(): void {}
        handleError(err: unknown): void {
          this.done(err);
        }
        handleReadyForQuery(): void {
          this.done();
        }
      }
      const client = await pool.connect();
      try {
        let q: OneQuery | undefined;
        await new Promise<void>((resolve, reject) => {
          q = new OneQuery((err) => (err ? reject(err) : resolve()));
          submit(client, q);
        });
        // pg's defaults would give '7' and a Date: these are the pool's parsers (postgres-types.ts).
        expect(q?.rows).toEqual([{ n: 7, d: '2024-02-29' }]);
        expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      } finally {
        client.release();
      }
    });

    it('a PacketCursor reads, closes its portal through _closePortal, and leaves the client usable', async () => {
      let closes = 0;
      class Counted extends PacketCursor {
        override _closePortal(): void {
          closes++;
          super._closePortal();
        }
      }
      const client = await pool.connect();
      try {
        const cursor = client.query(new Counted('select g from generate_series(1, 10) g'));
        const first = await cursor.read(3);
        expect(first).toEqual([{ g: 1 }, { g: 2 }, { g: 3 }]);
        await cursor.close();
        expect(closes).toBe(1);
        const { rows } = await client.query<{ n: string }>(
          "select count(*)::text as n from pg_cursors where name <> ''",
        );
        expect(rows[0]?.n).toBe('0');
        expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
      } finally {
        client.release();
      }
    });
  });
});
