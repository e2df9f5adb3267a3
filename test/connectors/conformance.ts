/**
 * One test body for every connector. A connector plugs in through a harness: `source(name)` and
 * `destination(name, …)` say how a dataset called `name` is read and written (a table for databases,
 * a file for the files connector), and `sql` gives a query source when the connector speaks SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, DestinationSpec, SourceSpec, WriteMode } from '../../src/connectors/connector.js';
import { AppError } from '../../src/core/errors.js';
import type { Column, Row } from '../../src/core/records.js';

export interface ConformanceHarness {
  connector: Connector;
  source(name: string): SourceSpec;
  destination(name: string, mode: WriteMode, columns: Column[], keys?: string[]): DestinationSpec;
  /** A query source; absent for connectors without SQL (the parameter tests are then skipped). */
  sql?(query: string, params: Record<string, unknown>): SourceSpec;
  /** A query that yields millions of rows slowly enough to cancel midway. */
  endlessQuery?: string;
  /** Whether the connector enforces primary keys (the mid-stream failure test relies on one). */
  constraints: boolean;
  /** The name discover() reports for dataset `name` (default: the name itself). */
  discoveredName?(name: string): string;
  teardown(): Promise<void>;
}

/**
 * What a connector can do, known before the harness is built, so every registered test really runs.
 * A file keeps JSON types only, has no SQL, no keys and no "do not create" switch; an HTTP API has no
 * catalog either, sends records without modes and cannot roll back.
 */
export interface Capabilities {
  sql: boolean;
  /** Dates, timestamps, bigints and bytes come back typed (databases); else JSON types only. */
  typedValues: boolean;
  upsert: boolean;
  /** Honours `create: false`. */
  createSwitch: boolean;
  constraints: boolean;
  /** discover() lists the datasets written (an HTTP API has no catalog). */
  catalog: boolean;
  /** Takes mode replace (an HTTP API only sends records). */
  replace: boolean;
  /** A write becomes visible at commit and rollback undoes it (an HTTP API cannot take a request back). */
  rollback: boolean;
}

export const DATABASE: Capabilities = {
  sql: true,
  typedValues: true,
  upsert: true,
  createSwitch: true,
  constraints: true,
  catalog: true,
  replace: true,
  rollback: true,
};

export const TYPED_COLUMNS: Column[] = [
  { name: 'id', type: 'integer', nullable: false, primaryKey: true },
  { name: 'big', type: 'bigint' },
  { name: 'num', type: 'number' },
  { name: 'label', type: 'text' },
  { name: 'flag', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp' },
  { name: 'doc', type: 'json' },
  { name: 'raw', type: 'bytes' },
];

export const TYPED_ROWS: Row[] = [
  {
    id: 1,
    big: 9007199254740991,
    num: 12.5,
    label: 'plain',
    flag: true,
    day: '2024-02-29',
    at: new Date('2024-03-01T12:34:56.789Z'),
    doc: { a: 1, b: ['x', null] },
    raw: Buffer.from([0, 1, 2, 255]),
  },
  {
    id: 2,
    big: -42,
    num: -0.25,
    label: 'quote \' double " back \\ tab \t newline \n cr \r comma , semi ;',
    flag: false,
    day: '1999-12-31',
    at: new Date('1970-01-01T00:00:00.000Z'),
    doc: [1, 'two', { three: 3 }],
    raw: Buffer.from('héllo'),
  },
  { id: 3, big: null, num: null, label: null, flag: null, day: null, at: null, doc: null, raw: null },
  {
    id: 4,
    big: 0,
    num: 0,
    label: 'ünïcødé 日本語 🚀',
    flag: true,
    day: '2000-01-01',
    at: null,
    doc: 42,
    raw: null,
  },
  { id: 5, big: 1, num: 1e6, label: '', flag: false, day: null, at: null, doc: {}, raw: Buffer.alloc(0) },
];

/** Values a reader may legitimately return in another shape (MariaDB keeps JSON as text). */
function normalize(row: Row): Row {
  const out: Row = { ...row };
  if (typeof out.doc === 'string') out.doc = JSON.parse(out.doc);
  if (out.raw instanceof Uint8Array) out.raw = Buffer.from(out.raw).toString('hex');
  if (out.at instanceof Date) out.at = out.at.toISOString();
  return out;
}

export async function readAll(
  connector: Connector,
  spec: SourceSpec,
  signal?: AbortSignal,
): Promise<Row[][]> {
  const src = await connector.read(spec, signal);
  const batches: Row[][] = [];
  for await (const b of src.batches) batches.push(b);
  return batches;
}

export async function readRows(connector: Connector, spec: SourceSpec): Promise<Row[]> {
  const rows = (await readAll(connector, spec)).flat();
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

export async function writeRows(
  connector: Connector,
  spec: DestinationSpec,
  batches: Row[][],
): Promise<number> {
  const w = await connector.writer(spec);
  try {
    for (const b of batches) await w.write(b);
  } catch (e) {
    await w.rollback();
    throw e;
  }
  return (await w.commit()).rowsWritten;
}

const SIMPLE: Column[] = [
  { name: 'id', type: 'integer', nullable: false, primaryKey: true },
  { name: 'name', type: 'text' },
];

/** Register `it` only when the connector can do what the test needs. */
const itIf = (cond: boolean) => (cond ? it : () => undefined);

const JSON_COLUMNS: Column[] = [
  { name: 'id', type: 'integer' },
  { name: 'num', type: 'number' },
  { name: 'label', type: 'text' },
  { name: 'flag', type: 'boolean' },
];

export function describeConnectorConformance(
  name: string,
  setup: () => Promise<ConformanceHarness>,
  caps: Capabilities = DATABASE,
): void {
  describe(`${name} connector conformance`, () => {
    let h: ConformanceHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.teardown();
    });
    const simple = (mode: WriteMode, table: string) => h.destination(table, mode, SIMPLE, ['id']);

    it('check() succeeds against the real endpoint', async () => {
      await expect(h.connector.check()).resolves.toBeUndefined();
    });

    itIf(!caps.typedValues)(
      'round-trips numbers, booleans, nulls, unicode, quotes and newlines',
      async () => {
        const rows = TYPED_ROWS.map((r) => ({ id: r.id, num: r.num, label: r.label, flag: r.flag }));
        expect(
          await writeRows(h.connector, h.destination('plain', 'append', JSON_COLUMNS), [
            rows.slice(0, 2),
            rows.slice(2),
          ]),
        ).toBe(rows.length);
        expect(await readRows(h.connector, h.source('plain'))).toEqual(rows);
      },
    );

    itIf(caps.typedValues)('round-trips every column type, nulls, unicode, quotes and newlines', async () => {
      const n = await writeRows(h.connector, h.destination('typed', 'append', TYPED_COLUMNS), [
        TYPED_ROWS.slice(0, 2),
        TYPED_ROWS.slice(2),
      ]);
      expect(n).toBe(TYPED_ROWS.length);
      const back = await readRows(h.connector, h.source('typed'));
      expect(back.map(normalize)).toEqual(TYPED_ROWS.map(normalize));
    });

    itIf(caps.catalog)('discover() lists a created table with its columns', async () => {
      await writeRows(h.connector, simple('append', 'discovered'), [[{ id: 1, name: 'a' }]]);
      const tables = await h.connector.discover();
      const t = tables.find((x) => x.name === (h.discoveredName?.('discovered') ?? 'discovered'));
      expect(t?.columns.map((c) => c.name)).toEqual(['id', 'name']);
      expect(t?.columns[0]?.type).toMatch(caps.typedValues ? /integer|bigint/ : /integer|bigint|number/);
      expect(t?.columns[1]?.type).toBe('text');
    });

    itIf(caps.replace)('append adds, replace swaps', async () => {
      await writeRows(h.connector, simple('append', 'modes2'), [[{ id: 1, name: 'a' }]]);
      await writeRows(h.connector, simple('append', 'modes2'), [[{ id: 2, name: 'b' }]]);
      expect((await readRows(h.connector, h.source('modes2'))).map((r) => r.id)).toEqual([1, 2]);
      await writeRows(h.connector, simple('replace', 'modes2'), [[{ id: 7, name: 'g' }]]);
      expect(await readRows(h.connector, h.source('modes2'))).toEqual([{ id: 7, name: 'g' }]);
    });

    itIf(!caps.upsert)('refuses upsert with a clear error instead of appending', async () => {
      await expect(
        writeRows(h.connector, simple('upsert', 'modes3'), [[{ id: 1, name: 'a' }]]),
      ).rejects.toThrow(/upsert/i);
    });

    itIf(caps.upsert)('append adds, replace swaps, upsert updates and inserts', async () => {
      await writeRows(h.connector, simple('append', 'modes'), [
        [
          { id: 1, name: 'a' },
          { id: 2, name: 'b' },
        ],
      ]);
      await writeRows(h.connector, simple('append', 'modes'), [[{ id: 3, name: 'c' }]]);
      expect((await readRows(h.connector, h.source('modes'))).map((r) => r.id)).toEqual([1, 2, 3]);
      await writeRows(h.connector, simple('replace', 'modes'), [
        [
          { id: 7, name: 'g' },
          { id: 8, name: 'h' },
        ],
      ]);
      expect(await readRows(h.connector, h.source('modes'))).toEqual([
        { id: 7, name: 'g' },
        { id: 8, name: 'h' },
      ]);
      await writeRows(h.connector, simple('upsert', 'modes'), [
        [{ id: 8, name: 'H' }],
        [{ id: 9, name: 'i' }],
      ]);
      expect(await readRows(h.connector, h.source('modes'))).toEqual([
        { id: 7, name: 'g' },
        { id: 8, name: 'H' },
        { id: 9, name: 'i' },
      ]);
    });

    itIf(caps.createSwitch)('creates a missing table, or refuses when create is off', async () => {
      const off = { ...simple('append', 'never_created'), create: false };
      await expect(writeRows(h.connector, off, [[{ id: 1, name: 'a' }]])).rejects.toBeInstanceOf(AppError);
      expect((await h.connector.discover()).some((t) => t.name === 'never_created')).toBe(false);
    });

    itIf(!caps.replace)('append adds; replace is refused with a clear error', async () => {
      await writeRows(h.connector, simple('append', 'modes4'), [[{ id: 1, name: 'a' }]]);
      await writeRows(h.connector, simple('append', 'modes4'), [[{ id: 2, name: 'b' }]]);
      expect((await readRows(h.connector, h.source('modes4'))).map((r) => r.id)).toEqual([1, 2]);
      await expect(
        writeRows(h.connector, simple('replace', 'modes4'), [[{ id: 7, name: 'g' }]]),
      ).rejects.toThrow(/replace/i);
      expect((await readRows(h.connector, h.source('modes4'))).map((r) => r.id)).toEqual([1, 2]);
    });

    itIf(!caps.rollback)('a destination that cannot roll back says what stays written', async () => {
      const w = await h.connector.writer(simple('append', 'kept'));
      expect(w.leftBehind?.()).toBeUndefined();
      await w.write([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ]);
      await w.rollback();
      expect(w.leftBehind?.()).toMatch(/\b2 records\b/);
      expect(await readRows(h.connector, h.source('kept'))).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ]);
    });

    itIf(caps.rollback)('rollback leaves nothing: no rows, and no table it created', async () => {
      await writeRows(h.connector, simple('append', 'rolled'), [[{ id: 1, name: 'kept' }]]);
      const w = await h.connector.writer(simple('replace', 'rolled'));
      await w.write([{ id: 2, name: 'gone' }]);
      await w.rollback();
      expect(await readRows(h.connector, h.source('rolled'))).toEqual([{ id: 1, name: 'kept' }]);
      const w2 = await h.connector.writer(simple('append', 'rolled_new'));
      await w2.write([{ id: 1, name: 'x' }]);
      await w2.rollback();
      expect((await h.connector.discover()).some((t) => t.name === 'rolled_new')).toBe(false);
    });

    itIf(caps.constraints)('a failure in batch 3 leaves the destination as it was', async () => {
      await writeRows(h.connector, simple('append', 'midfail'), [[{ id: 1, name: 'before' }]]);
      const batch = (from: number) =>
        Array.from({ length: 1000 }, (_, i) => ({ id: from + i, name: `n${from + i}` }));
      // Batch 3 repeats a key of batch 1: a primary key violation.
      const bad = [...batch(5000), { id: 1000, name: 'duplicate' }];
      await expect(
        writeRows(h.connector, simple('append', 'midfail'), [batch(1000), batch(2000), bad]),
      ).rejects.toBeInstanceOf(AppError);
      expect(await readRows(h.connector, h.source('midfail'))).toEqual([{ id: 1, name: 'before' }]);
    });

    itIf(caps.sql)('binds parameters: injection attempts never change the query', async () => {
      await writeRows(h.connector, simple('append', 'role'), [
        [
          { id: 1, name: 'admin' },
          { id: 2, name: "o'brien" },
        ],
      ]);
      const q = (params: Record<string, unknown>) =>
        h.sql?.('select id, name from role where name = {name}', params);
      for (const attempt of ["x' or '1'='1", '2 or 1=1', '1; drop table role', "'", '{name}', '$1', '?']) {
        const spec = q({ name: attempt });
        if (!spec) throw new Error('no sql');
        expect(await readRows(h.connector, spec)).toEqual([]);
      }
      const quoted = q({ name: "o'brien" });
      if (quoted) expect(await readRows(h.connector, quoted)).toEqual([{ id: 2, name: "o'brien" }]);
      await h.connector.execute('update role set name = {name} where id = {id}', {
        name: "'); drop table role; --",
        id: 1,
      });
      expect((await readRows(h.connector, h.source('role')))[0]).toEqual({
        id: 1,
        name: "'); drop table role; --",
      });
      // A braces-in-literal is text, and a missing parameter is named.
      await expect(
        h.connector.execute("update role set name = '{name}' where id = {id}", {}),
      ).rejects.toThrow(/'id'/);
    });

    itIf(caps.sql)('execute() runs statements in one transaction', async () => {
      await writeRows(h.connector, simple('append', 'tx'), [[{ id: 1, name: 'a' }]]);
      const r = await h.connector.execute(
        "update tx set name = 'b' where id = {id}; delete from tx where id = 99",
        { id: 1 },
      );
      expect(r.rowsAffected).toBe(1);
      await expect(
        h.connector.execute(
          "update tx set name = 'c' where id = 1; insert into tx (id, name) values (1, 'dup')",
          {},
        ),
      ).rejects.toBeInstanceOf(AppError);
      expect(await readRows(h.connector, h.source('tx'))).toEqual([{ id: 1, name: 'b' }]);
    });

    itIf(caps.sql)('an AbortSignal stops a running read', async () => {
      if (!h.sql || !h.endlessQuery) throw new Error('a SQL connector must give an endlessQuery');
      const ac = new AbortController();
      const src = await h.connector.read(h.sql(h.endlessQuery, {}), ac.signal);
      const started = Date.now();
      let batches = 0;
      const run = (async () => {
        for await (const _ of src.batches) {
          batches++;
          if (batches === 2) ac.abort();
        }
      })();
      await expect(run).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
      expect(Date.now() - started).toBeLessThan(5000);
      await expect(h.connector.check()).resolves.toBeUndefined();
    });

    it('streams 100k rows in bounded batches', async () => {
      const total = 100_000;
      async function* gen(): AsyncGenerator<Row[]> {
        for (let i = 0; i < total; i += 5000) {
          yield Array.from({ length: 5000 }, (_, j) => ({ id: i + j, name: `row ${i + j}` }));
        }
      }
      const w = await h.connector.writer(simple('append', 'big'));
      for await (const b of gen()) await w.write(b);
      expect((await w.commit()).rowsWritten).toBe(total);
      const batches = await readAll(h.connector, h.source('big'));
      expect(batches.length).toBeGreaterThan(1);
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10_000);
      expect(batches.reduce((n, b) => n + b.length, 0)).toBe(total);
    });
  });
}
