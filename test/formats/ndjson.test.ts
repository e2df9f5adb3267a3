import { describe, expect, it } from 'vitest';
import { bindFormat } from '../../src/formats/registry.js';
import { generated, readAll, writeAll } from './helpers.js';

describe('ndjson format', () => {
  it('reads one object per line and skips blank lines', async () => {
    expect(await readAll('ndjson', '{"a":1}\n\n  \r\n{"a":"x\\ny"}\r\n{"a":null}')).toEqual([
      { a: 1 },
      { a: 'x\ny' },
      { a: null },
    ]);
  });

  it('reports the line of a bad record', async () => {
    const err = await readAll('ndjson', '{"a":1}\n\n{"a":\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
    expect(String(err)).toMatch(/test\.ndjson line 3: not valid JSON/);
    await expect(readAll('ndjson', '{"a":1}\n[1]\n')).rejects.toThrow(/line 2: not a JSON object/);
  });

  it('round-trips through the writer', async () => {
    const rows = [{ a: 1, d: new Date(0) }, { a: null }];
    const text = await writeAll('ndjson', rows);
    expect(text).toBe('{"a":1,"d":"1970-01-01T00:00:00.000Z"}\n{"a":null}\n');
    expect(await readAll('ndjson', text)).toEqual([{ a: 1, d: '1970-01-01T00:00:00.000Z' }, { a: null }]);
  });

  it('streams a large input in batches', async () => {
    let total = 0;
    let batches = 0;
    const input = generated(200_000, (i) => `{"id":${i}}\n`);
    for await (const batch of bindFormat({ type: 'ndjson' }).read(input, {
      source: 'big.ndjson',
      batchSize: 5000,
    })) {
      expect(batch.length).toBeLessThanOrEqual(5000);
      total += batch.length;
      batches++;
    }
    expect(total).toBe(200_000);
    expect(batches).toBe(40);
  });
});
