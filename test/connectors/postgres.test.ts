import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { postgresConnectorType } from '../../src/connectors/postgres/postgres-type.js';
import { connectorContext } from '../helpers/connector-context.js';
import { createPgDatabase } from '../services.js';
import { describeConnectorConformance, readRows } from './conformance.js';

// Nested small series stream row by row; one big generate_series would be materialised first.
const ENDLESS =
  'select a * 100000 + b as id, md5(b::text) as name from generate_series(1, 100000) a, generate_series(1, 100000) b';

describeConnectorConformance('postgres', async () => {
  const db = await createPgDatabase('pgconf');
  const connector = await postgresConnectorType.create(
    { url: db.url, poolSize: 4 },
    connectorContext('/tmp'),
  );
  return {
    connector,
    source: (table) => ({ table }),
    destination: (table, mode, columns, keys) => ({ table, mode, columns, ...(keys ? { keys } : {}) }),
    sql: (query, params) => ({ query, params }),
    endlessQuery: ENDLESS,
    constraints: true,
    teardown: async () => {
      await connector.close();
      await db.drop();
    },
  };
});

describe('postgres connector specifics', () => {
  let connector: Connector;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createPgDatabase('pgspec');
    drop = db.drop;
    connector = await postgresConnectorType.create({ url: db.url }, connectorContext('/tmp'));
  });
  afterAll(async () => {
    await connector.close();
    await drop();
  });

  it('reads no more than maxRows in one exchange, and the connection stays usable', async () => {
    const first = async (query: string, maxRows: number, params: Record<string, unknown> = {}) => {
      const r = await connector.read({ query, params, maxRows });
      const batches: Record<string, unknown>[][] = [];
      for await (const b of r.batches) batches.push(b);
      return { columns: (r.columns ?? []).map((c) => c.name), batches };
    };
    const many = 'select g as n, now()::date as d from generate_series(1, 50000) g order by g';
    expect(await first(many, 1)).toMatchObject({ columns: ['n', 'd'], batches: [[{ n: 1 }]] });
    // Values parse exactly as on the cursor path.
    const typed =
      "select g as n, date '2024-01-02' as d, 1.5::numeric as x, timestamptz '2024-01-02 03:04:05+00' as t " +
      'from generate_series(1, 5) g order by g';
    const cursor = (await connector.read({ query: typed, params: {} })).batches;
    const whole: Record<string, unknown>[] = [];
    for await (const b of cursor) whole.push(...b);
    expect((await first(typed, 3)).batches).toEqual([whole.slice(0, 3)]);
    expect(await first('select 1 as n where false', 1)).toEqual({ columns: ['n'], batches: [] });
    expect(await first('select {x}::int * 2 as n', 1, { x: 21 })).toMatchObject({ batches: [[{ n: 42 }]] });
    await expect(first('select 1 / 0 as n', 1)).rejects.toMatchObject({
      message: expect.stringMatching(/division by zero/),
    });
    await expect(first('selec 1', 1)).rejects.toMatchObject({ message: expect.stringMatching(/syntax/) });
    // Every connection of the pool is still in a clean state: many more reads, with and without limit.
    for (let i = 0; i < 20; i++) expect((await first(many, 1)).batches[0]).toHaveLength(1);
    const all = await readRows(connector, {
      query: 'select g as id from generate_series(1, 4500) g',
      params: {},
    });
    expect(all).toHaveLength(4500);
  });

  it('answers concurrent one-row reads of one query together, each with its own rows or error', async () => {
    const one = async (x: number, signal?: AbortSignal, wait = 0) => {
      const r = await connector.read(
        {
          query: 'select 100 / {x} as n, {x}::int as x from pg_sleep({wait})',
          params: { x, wait },
          maxRows: 1,
        },
        signal,
      );
      const rows: Record<string, unknown>[] = [];
      for await (const b of r.batches) rows.push(...b);
      return rows;
    };
    // Forty reads at once, one of which divides by zero: it fails alone, the others (before and after it
    // in the shared packet) get their own rows.
    const xs = Array.from({ length: 40 }, (_, i) => (i === 25 ? 0 : i + 1));
    const outcomes = await Promise.allSettled(xs.map((x) => one(x)));
    outcomes.forEach((o, i) => {
      if (xs[i] === 0) expect(o.status === 'rejected' && String(o.reason)).toMatch(/division by zero/);
      else
        expect(o).toEqual({ status: 'fulfilled', value: [{ n: Math.floor(100 / (xs[i] ?? 1)), x: xs[i] }] });
    });
    // A read cancelled while it waits behind one in flight is not sent; the others are answered.
    const slow = one(50, undefined, 0.3);
    await new Promise((r) => setTimeout(r, 50));
    const cancel = new AbortController();
    const waiting = one(7, cancel.signal);
    const after = one(8);
    cancel.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(await after).toEqual([{ n: 12, x: 8 }]);
    expect(await slow).toEqual([{ n: 2, x: 50 }]);
  });

  describe('small writes that share a statement', () => {
    const cols = [
      { name: 'id', type: 'integer' as const },
      { name: 'name', type: 'text' as const },
    ];
    const write = async (
      table: string,
      rows: Record<string, unknown>[],
      opts: { mode?: 'append' | 'upsert'; signal?: AbortSignal } = {},
    ) => {
      const mode = opts.mode ?? 'append';
      const w = await connector.writer(
        { table, mode, columns: cols, ...(mode === 'upsert' ? { keys: ['id'] } : {}) },
        opts.signal,
      );
      await w.write(rows);
      return (await w.commit()).rowsWritten;
    };
    const ids = async (table: string) =>
      (await readRows(connector, { query: `select id from ${table} order by id`, params: {} })).map(
        (r) => r['id'],
      );

    it('commits each write or none of it, and one bad row fails only its own write', async () => {
      await connector.execute('create table shared (id integer primary key, name text)', {});
      expect(await write('shared', [{ id: 0, name: 'first' }])).toBe(1);
      // Fifty writes at once, one of which repeats a key another write uses: they go out together, the
      // shared statement fails, and each is written again alone.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          write(
            'shared',
            i === 20
              ? [
                  { id: 1000, name: 'ok' },
                  { id: 7, name: 'again' },
                ]
              : [{ id: i + 1, name: `n${i}` }],
          ),
        ),
      );
      const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
      expect(failed).toHaveLength(1);
      const rejected = outcomes[failed[0] ?? -1];
      expect(rejected?.status === 'rejected' && String(rejected.reason)).toMatch(/duplicate key/);
      const written = await ids('shared');
      expect(written).toHaveLength(50);
      // The write that lost the race for id 7 left nothing behind, not even its good row.
      const loser = failed[0] === 20 ? 1000 : (failed[0] ?? 0) + 1;
      expect(written).not.toContain(loser);
      expect(outcomes.filter((o) => o.status === 'fulfilled').every((o) => o.value >= 1)).toBe(true);
    });

    it('upserts together, and the same key in two writes at once still ends as one row', async () => {
      await connector.execute('create table shared_up (id integer primary key, name text)', {});
      await write('shared_up', [{ id: 1, name: 'seed' }], { mode: 'upsert' });
      const counts = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          write('shared_up', [{ id: i % 20, name: `v${i}` }], { mode: 'upsert' }),
        ),
      );
      expect(counts.every((n) => n === 1)).toBe(true);
      expect(await ids('shared_up')).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('writes nothing for a write cancelled while it waits or while its statement runs', async () => {
      await connector.execute('create table shared_slow (id integer primary key, name text)', {});
      // Every insert statement takes a while, so writes queue up behind the one in flight.
      await connector.execute(
        `create function slow_insert() returns trigger language plpgsql as $$
         begin perform pg_sleep(0.3); return null; end $$`,
        {},
      );
      await connector.execute(
        'create trigger slow after insert on shared_slow for each statement execute function slow_insert()',
        {},
      );
      await write('shared_slow', [{ id: 0, name: 'create' }]);
      const waiting = new AbortController();
      const inFlight = new AbortController();
      const first = write('shared_slow', [{ id: 1, name: 'a' }]);
      await new Promise((r) => setTimeout(r, 50));
      // These three queue behind the first; one is cancelled before its turn.
      // Settled as they go: a write rejects as soon as it is cancelled, before the test looks at it.
      const queued = Promise.allSettled([
        write('shared_slow', [{ id: 2, name: 'b' }], { signal: waiting.signal }),
        write('shared_slow', [{ id: 3, name: 'c' }], { signal: inFlight.signal }),
        write('shared_slow', [{ id: 4, name: 'd' }]),
      ]);
      waiting.abort();
      await first;
      // The other two now share a statement; cancelling one of them mid-statement cancels it, and the
      // other is written alone.
      await new Promise((r) => setTimeout(r, 100));
      inFlight.abort();
      const results = await queued;
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
      for (const r of results.slice(0, 2)) {
        expect(r.status === 'rejected' && String(r.reason)).toMatch(/cancelled/);
      }
      expect(await ids('shared_slow')).toEqual([0, 1, 4]);
    });
  });

  const csv = (s: string) => Readable.from([Buffer.from(s)]);
  const collect = async (it: AsyncIterable<Uint8Array>) => {
    const parts: Buffer[] = [];
    for await (const c of it) parts.push(Buffer.from(c));
    return Buffer.concat(parts).toString();
  };

  it('copyIn loads CSV bytes, creating a text table from the header', async () => {
    const r = await connector.copyIn?.write(
      { table: 'people', mode: 'append', columns: [] },
      csv('id,name\r\n1,"Ann, ""A"""\r\n2,\r\n3,""\r\n'),
      {},
    );
    expect(r?.rowsWritten).toBe(3);
    expect(
      await readRows(connector, { query: 'select id::int as id, name from people', params: {} }),
    ).toEqual([
      { id: 1, name: 'Ann, "A"' },
      { id: 2, name: null },
      { id: 3, name: '' },
    ]);
  });

  it('copyIn upserts through a staging table and rolls back on bad data', async () => {
    const cols = [
      { name: 'id', type: 'integer' as const },
      { name: 'n', type: 'number' as const },
    ];
    await connector.copyIn?.write(
      { table: 'nums', mode: 'upsert', keys: ['id'], columns: cols },
      csv('id,n\n1,1.5\n2,2\n'),
      {},
    );
    await connector.copyIn?.write(
      { table: 'nums', mode: 'upsert', keys: ['id'], columns: cols },
      csv('n,id\n9,2\n3,3\n'),
      {},
    );
    expect(await readRows(connector, { table: 'nums' })).toEqual([
      { id: 1, n: 1.5 },
      { id: 2, n: 9 },
      { id: 3, n: 3 },
    ]);
    await expect(
      connector.copyIn?.write(
        { table: 'nums', mode: 'replace', columns: cols },
        csv('id,n\n5,5\n6,oops\n'),
        {},
      ),
    ).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    expect((await readRows(connector, { table: 'nums' })).length).toBe(3);
  });

  it('copyOut streams a table, a query, and a parameterised query as CSV', async () => {
    const t = await connector.copyOut?.read({ table: 'nums' }, {});
    expect(t?.columns.map((c) => c.name)).toEqual(['id', 'n']);
    expect(await collect(t!.bytes)).toBe('id,n\n1,1.5\n2,9\n3,3\n');
    const q = await connector.copyOut?.read({ query: 'select id from nums where id > 1 order by id' }, {});
    expect(await collect(q!.bytes)).toBe('id\n2\n3\n');
    const p = await connector.copyOut?.read(
      { query: 'select id, n from nums where id = {id}', params: { id: 2 } },
      {},
    );
    expect(await collect(p!.bytes)).toBe('id,n\n2,9\n');
  });
});
