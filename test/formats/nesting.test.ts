import { describe, expect, it } from 'vitest';
import { MAX_NESTING } from '../../src/core/nesting.js';
import { parseJsonRecords } from '../../src/formats/json.js';
import { readAll } from './helpers.js';

/** A record whose field `v` holds arrays nested so that the record reaches `levels` levels. */
const jsonAt = (levels: number) => `{"id":1,"v":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
const xmlAt = (levels: number) =>
  `<rows><row><id>1</id>${'<a>'.repeat(levels - 1)}x${'</a>'.repeat(levels - 1)}</row></rows>`;

describe('nesting limit of the readers', () => {
  it('reads records nested exactly to the limit', async () => {
    expect(await readAll('json', `[${jsonAt(MAX_NESTING)}]`)).toHaveLength(1);
    expect(await readAll('ndjson', `${jsonAt(MAX_NESTING)}\n`)).toHaveLength(1);
    expect(await readAll('xml', xmlAt(MAX_NESTING))).toHaveLength(1);
    expect(parseJsonRecords(`[${jsonAt(MAX_NESTING)}]`)).toHaveLength(1);
  });

  it('refuses one level more, and 100,000 levels, naming the limit and the record', async () => {
    for (const levels of [MAX_NESTING + 1, 100_000]) {
      const second = `[{"id":0},\n${jsonAt(levels)}]`;
      await expect(readAll('json', second)).rejects.toMatchObject({
        code: 'FORMAT_ERROR',
        message: 'test.json line 2 column 1: record 2 nests deeper than 64 levels',
      });
      await expect(readAll('json', jsonAt(levels), {}, 65536)).rejects.toThrow(
        /line 1 column 1: record 1 nests deeper than 64 levels/,
      );
      await expect(readAll('ndjson', `{"id":0}\n${jsonAt(levels)}\n`)).rejects.toMatchObject({
        code: 'FORMAT_ERROR',
        message: 'test.ndjson line 2: the record nests deeper than 64 levels',
      });
      await expect(readAll('xml', xmlAt(levels))).rejects.toMatchObject({
        code: 'FORMAT_ERROR',
        message: 'test.xml record 1: element <a> nests deeper than 64 levels',
      });
      // The whole-body fast path leaves it to the streaming reader, which words the error.
      expect(parseJsonRecords(second)).toBeUndefined();
    }
  });

  it('counts nesting inside records under a recordPath, not the path above them', async () => {
    const wrapped = `{"data":{"items":[${jsonAt(MAX_NESTING)}]}}`;
    expect(await readAll('json', wrapped, { recordPath: 'data.items' })).toHaveLength(1);
  });
});
