import { describe, expect, it } from 'vitest';
import { bindFormat } from '../../src/formats/registry.js';
import { generated, readAll, writeAll } from './helpers.js';

describe('json format', () => {
  it('reads an array of objects, keeping JSON types', async () => {
    const text =
      '[ {"id": 1, "name": "a \\"q\\" ]}", "ok": true, "n": null, "tags": ["x", {"y": [1]}]},\n {"id": 2} ]';
    expect(await readAll('json', text, {}, 3)).toEqual([
      { id: 1, name: 'a "q" ]}', ok: true, n: null, tags: ['x', { y: [1] }] },
      { id: 2 },
    ]);
  });

  it('reads a single object as one record, and an empty array as none', async () => {
    expect(await readAll('json', '{"id": 7}')).toEqual([{ id: 7 }]);
    expect(await readAll('json', ' [ ] ')).toEqual([]);
  });

  it('reads records at a recordPath, skipping other keys', async () => {
    const doc =
      '{"meta": {"n": [1, {"items": 0}], "s": "x\\\\"}, "data": {"count": 2, "items": [{"a": 1}, {"a": 2}]}, "tail": 1}';
    expect(await readAll('json', doc, { recordPath: 'data.items' })).toEqual([{ a: 1 }, { a: 2 }]);
    expect(await readAll('json', '{"data": {"one": {"a": 1}}}', { recordPath: 'data.one' })).toEqual([
      { a: 1 },
    ]);
  });

  it('reports a missing recordPath key', async () => {
    await expect(readAll('json', '{"data": {}}', { recordPath: 'data.items' })).rejects.toThrow(
      /key 'items'/,
    );
  });

  it('reports malformed records with line, column and record number', async () => {
    const text = '[\n{"a": 1},\n{"a": 2},\n{"a": }\n]';
    const err = await readAll('json', text).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
    expect(String(err)).toMatch(/test\.json line 4 column \d+: record 3 is not valid JSON/);
  });

  it('reports a cut-off document, a missing comma and non-object records', async () => {
    await expect(readAll('json', '[{"a": 1}, {"a": 2')).rejects.toThrow(/record 2 is cut off/);
    await expect(readAll('json', '[{"a": 1} {"a": 2}]')).rejects.toThrow(/line 1 column 11: expected ','/);
    await expect(readAll('json', '[{"a": 1}, 5]')).rejects.toThrow(/record 2 is not an object/);
    await expect(readAll('json', '[{"a": 1}] x')).rejects.toThrow(/unexpected 'x'/);
    await expect(readAll('json', '"text"')).rejects.toThrow(/expected an array of objects/);
  });

  it('decodes latin1', async () => {
    expect(await readAll('json', Buffer.from('[{"n": "Zoë"}]', 'latin1'), { encoding: 'latin1' })).toEqual([
      { n: 'Zoë' },
    ]);
  });

  it('round-trips through the writer (compact and pretty)', async () => {
    const rows = [
      { id: 1, at: new Date('2024-05-06T07:08:09.000Z'), nested: { a: [1, 2] }, big: 2n ** 70n },
      { id: 2, at: null, nested: null, big: 3n },
    ];
    const expected = [
      { id: 1, at: '2024-05-06T07:08:09.000Z', nested: { a: [1, 2] }, big: 2n ** 70n },
      { id: 2, at: null, nested: null, big: 3 },
    ];
    expect(await readAll('json', await writeAll('json', rows))).toEqual(expected);
    const pretty = await writeAll('json', rows, { pretty: true });
    expect(pretty).toContain('\n    "id": 1');
    expect(await readAll('json', pretty)).toEqual(expected);
    expect(JSON.parse(await writeAll('json', []))).toEqual([]);
  });

  it('streams a large array in batches before the input ends', async () => {
    const count = 200_000;
    let produced = 0;
    const render = (i: number) => {
      produced = i;
      return `${i ? ',' : ''}{"id":${i},"name":"n${i}"}\n`;
    };
    let total = 0;
    let firstBatchAt = -1;
    const json = bindFormat({ type: 'json' });
    for await (const batch of json.read(generated(count, render, '[', ']'), {
      source: 'big.json',
      batchSize: 1000,
    })) {
      if (firstBatchAt < 0) firstBatchAt = produced;
      expect(batch.length).toBeLessThanOrEqual(1000);
      total += batch.length;
    }
    expect(total).toBe(count);
    expect(firstBatchAt).toBeLessThan(count / 2);
  });
});
