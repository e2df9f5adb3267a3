import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import type { Column, Row, RowStream } from '../../src/core/records.js';
import { builtinTransforms, compileTransforms } from '../../src/transforms/builtin-transforms.js';
import type { TransformDef } from '../../src/transforms/transform-def.js';

async function* streamOf(...batches: Row[][]): RowStream {
  for (const batch of batches) yield batch;
}

async function collect(defs: TransformDef[], batches: Row[][], params: Record<string, unknown> = {}) {
  const out: Row[][] = [];
  for await (const batch of compileTransforms(defs, 'steps[0].transforms').apply(
    streamOf(...batches),
    params,
  )) {
    out.push(batch);
  }
  return out;
}

async function failure(defs: TransformDef[], batches: Row[][]): Promise<AppError> {
  try {
    await collect(defs, batches);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the run to fail');
}

function compileFailure(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

const input: Column[] = [
  { name: 'id', type: 'integer', primaryKey: true },
  { name: 'name', type: 'text' },
  { name: 'price', type: 'number' },
  { name: 'qty', type: 'text' },
];

describe('map', () => {
  const def: TransformDef = {
    type: 'map',
    compute: { total: 'price * qty', name: 'upper(name)' },
    select: ['id', 'name', 'total', 'qty'],
    exclude: ['qty'],
    rename: { id: 'order_id' },
  };

  it('applies compute, select, exclude, rename in that order', async () => {
    const out = await collect([def], [[{ id: 1, name: 'ann', price: 2.5, qty: '4' }]]);
    expect(out).toEqual([[{ order_id: 1, name: 'ANN', total: 10 }]]);
    expect(Object.keys(out[0]![0]!)).toEqual(['order_id', 'name', 'total']);
  });

  it('keeps unselected columns in input order without select', async () => {
    const out = await collect(
      [{ type: 'map', rename: { id: 'key' }, exclude: ['price'], compute: { n: 'length(name)' } }],
      [[{ id: 1, name: 'ann', price: 1, qty: '1' }]],
    );
    expect(Object.entries(out[0]![0]!)).toEqual([
      ['key', 1],
      ['name', 'ann'],
      ['qty', '1'],
      ['n', 3],
    ]);
  });

  it('computes output columns with inferred types', () => {
    const columns = compileTransforms([def], 'steps[0].transforms').outputColumns(input);
    expect(columns).toEqual([
      { name: 'order_id', type: 'integer', primaryKey: true },
      { name: 'name', type: 'text', nullable: true },
      { name: 'total', type: 'number', nullable: true },
    ]);
  });

  it('names the record and column of a runtime error', async () => {
    const err = await failure(
      [{ type: 'map', compute: { total: 'price * qty' } }],
      [
        [{ price: 1, qty: '2' }],
        [
          { price: 1, qty: '3' },
          { price: 1, qty: 'x' },
        ],
      ],
    );
    expect(err.code).toBe('INVALID_VALUE');
    expect(err.message).toBe(
      "steps[0].transforms[0].compute.total: record 3, column 'total': '*' needs a number but column 'qty' is 'x'",
    );
  });

  it('rejects bad definitions with their path', () => {
    const bad = compileFailure(() =>
      compileTransforms([{ type: 'map', compute: { 'odd name': 'uper(x)' } }], 'steps[1].transforms'),
    );
    expect(bad.message).toBe(
      "steps[1].transforms[0].compute[\"odd name\"] at column 1: unknown function 'uper' (did you mean 'upper'?)",
    );
    const unknown = compileFailure(() =>
      compileTransforms([{ type: 'map', select: ['nope'] }], 't').outputColumns(input),
    );
    expect(unknown.message).toBe(
      "t[0].select: column 'nope' is not an input column (columns: id, name, price, qty)",
    );
    const clash = compileFailure(() =>
      compileTransforms([{ type: 'map', rename: { id: 'name' } }], 't').outputColumns(input),
    );
    expect(clash.message).toContain("two output columns are named 'name'");
    const ref = compileFailure(() =>
      compileTransforms([{ type: 'map', compute: { x: 'nope + 1' } }], 't').outputColumns(input),
    );
    expect(ref.message).toContain("t[0].compute.x: column 'nope' is not an input column");
  });

  it('never lets a __proto__ key touch the prototype', async () => {
    const row: Row = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const out = await collect([{ type: 'map', rename: { a: 'b' } }], [[row]]);
    const result = out[0]![0]!;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
  });
});

describe('filter', () => {
  it('keeps truthy rows, uses parameters, drops empty batches', async () => {
    const out = await collect(
      [{ type: 'filter', where: 'qty >= {min} and name is not null' }],
      [
        [
          { qty: 1, name: 'a' },
          { qty: 5, name: 'b' },
          { qty: 6, name: null },
        ],
        [{ qty: 0, name: 'c' }],
      ],
      { min: 2 },
    );
    expect(out).toEqual([[{ qty: 5, name: 'b' }]]);
  });

  it('fails with record number when evaluation fails', async () => {
    const err = await failure([{ type: 'filter', where: 'qty / 0 > 1' }], [[{ qty: 1 }]]);
    expect(err.message).toBe(
      "steps[0].transforms[0].where: record 1, column 'where': division by zero: the value at position 7 is 0",
    );
  });
});

describe('cast', () => {
  it('converts strictly', async () => {
    const out = await collect(
      [
        {
          type: 'cast',
          columns: {
            i: 'integer',
            n: 'number',
            b: 'boolean',
            d: 'date',
            t: 'timestamp',
            big: 'bigint',
            j: 'json',
          },
        },
      ],
      [
        [
          {
            i: '12',
            n: ' 1.5 ',
            b: 'yes',
            d: '2024-02-29',
            t: '2024-01-02 03:04:05',
            big: '9007199254740993',
            j: '[1]',
          },
        ],
      ],
    );
    expect(out[0]![0]).toEqual({
      i: 12,
      n: 1.5,
      b: true,
      d: '2024-02-29',
      t: new Date('2024-01-02T03:04:05Z'),
      big: 9007199254740993n,
      j: [1],
    });
  });

  it.each([
    ['integer', '12x'],
    ['integer', '1.5'],
    ['integer', '3000000000'],
    ['number', 'abc'],
    ['boolean', 'maybe'],
    ['date', '2023-02-29'],
    ['date', '15.03.2024'],
    ['timestamp', 'yesterday'],
    ['json', '{bad'],
    ['bytes', 'not base64!'],
  ] as const)('refuses %s from %s naming record and column', async (type, value) => {
    const good =
      { date: '2024-01-01', timestamp: '2024-01-01T00:00:00Z', bytes: 'AQID' }[type as string] ?? '1';
    const err = await failure([{ type: 'cast', columns: { v: type } }], [[{ v: good }, { v: value }]]);
    expect(err.code).toBe('INVALID_VALUE');
    expect(err.message).toContain("steps[0].transforms[0]: record 2, column 'v': cannot convert");
  });

  it('stores null on error when asked, and maps empty text to null', async () => {
    const out = await collect(
      [{ type: 'cast', columns: { v: 'integer' }, onError: 'null' }],
      [[{ v: '12x' }, { v: '' }]],
    );
    expect(out[0]).toEqual([{ v: null }, { v: null }]);
  });

  it('sets output column types', () => {
    const columns = compileTransforms([{ type: 'cast', columns: { qty: 'integer' } }], 't').outputColumns(
      input,
    );
    expect(columns.find((c) => c.name === 'qty')?.type).toBe('integer');
    expect(() =>
      compileTransforms([{ type: 'cast', columns: { x: 'integer' } }], 't').outputColumns(input),
    ).toThrow("t[0].columns: column 'x' is not an input column");
  });

  it('types a computed column when a cast follows', () => {
    const columns = compileTransforms(
      [
        { type: 'map', compute: { label: "name & '!'" } },
        { type: 'cast', columns: { label: 'json' } },
      ],
      't',
    ).outputColumns(input);
    expect(columns.at(-1)).toEqual({ name: 'label', type: 'json', nullable: true });
  });
});

describe('defaults', () => {
  it('fills null, missing and empty values', async () => {
    const out = await collect(
      [{ type: 'defaults', values: { city: 'unknown', n: 0 } }],
      [[{ city: '' }, { city: null, n: 5 }, {}]],
    );
    expect(out[0]).toEqual([
      { city: 'unknown', n: 0 },
      { city: 'unknown', n: 5 },
      { city: 'unknown', n: 0 },
    ]);
    const columns = compileTransforms(
      [{ type: 'defaults', values: { name: 'x', extra: 1.5 } }],
      't',
    ).outputColumns(input);
    expect(columns.at(1)).toEqual({ name: 'name', type: 'text', nullable: false });
    expect(columns.at(-1)).toEqual({ name: 'extra', type: 'number', nullable: false });
  });
});

describe('dedupe', () => {
  it('keeps the first row per key across batches', async () => {
    const out = await collect(
      [{ type: 'dedupe', keys: ['a', 'b'] }],
      [
        [
          { a: 1, b: 'x', n: 1 },
          { a: 1, b: 'y', n: 2 },
        ],
        [
          { a: 1, b: 'x', n: 3 },
          { a: '1', b: 'x', n: 4 },
        ],
      ],
    );
    expect(out.flat().map((r) => r.n)).toEqual([1, 2, 4]);
    const single = await collect(
      [{ type: 'dedupe', keys: ['a'] }],
      [[{ a: null }, { a: 2 }, { a: undefined }, { a: 2 }]],
    );
    expect(single.flat()).toEqual([{ a: null }, { a: 2 }]);
  });

  it('starts a fresh key set per run', async () => {
    const chain = compileTransforms([{ type: 'dedupe', keys: ['a'] }], 't');
    for (let run = 0; run < 2; run++) {
      let count = 0;
      for await (const batch of chain.apply(streamOf([{ a: 1 }, { a: 1 }]), {})) count += batch.length;
      expect(count).toBe(1);
    }
    expect(() => chain.outputColumns(input)).toThrow("t[0].keys: key 'a' is not an input column");
  });
});

describe('validateTransforms', () => {
  it('accepts a valid list and returns it typed', () => {
    const defs = builtinTransforms.validate(
      [
        { type: 'filter', where: 'a > 1' },
        { type: 'dedupe', keys: ['a'] },
      ],
      'steps[0].transforms',
    );
    expect(defs).toHaveLength(2);
  });

  it('reports paths for bad definitions', () => {
    const err = compileFailure(() =>
      builtinTransforms.validate(
        [
          { type: 'filter', where: 'a > 1' },
          { type: 'cast', columns: { a: 'int' } },
          { type: 'sort' },
          { type: 'map', selct: ['a'] },
        ],
        'steps[0].transforms',
      ),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
    const paths = err.details?.map((d) => d.path);
    expect(paths).toContain('steps[0].transforms[1].columns.a');
    expect(paths).toContain('steps[0].transforms[2].type');
    expect(paths?.some((p) => p.startsWith('steps[0].transforms[3]'))).toBe(true);
    expect(compileFailure(() => builtinTransforms.validate({}, 'x')).details).toEqual([
      { path: 'x', message: 'must be a list of transforms' },
    ]);
  });
});
