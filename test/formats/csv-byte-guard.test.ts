import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvByteGuard } from '../../src/formats/csv-byte-guard.js';
import { readAll } from './helpers.js';

/** The guard's verdict on bytes cut at `cuts`: what it passed on and its record count, or its error. */
function guard(
  bytes: Buffer,
  options: { escape?: string; header?: boolean; skipEmptyLines?: boolean },
  size: number,
) {
  const g = new CsvByteGuard({
    delimiter: ',',
    quote: '"',
    escape: options.escape ?? '"',
    header: options.header ?? true,
    skipEmptyLines: options.skipEmptyLines ?? true,
    source: 'test.csv',
  });
  const out: Uint8Array[] = [];
  try {
    for (let i = 0; i < bytes.length; i += size) out.push(...g.push(bytes.subarray(i, i + size)));
    out.push(...g.end());
    return { bytes: Buffer.concat(out), records: g.count };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function reader(bytes: Buffer, options: Record<string, unknown>) {
  try {
    return { rows: await readAll('csv', bytes, { ...options, header: true }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** CSV-ish text: the characters that matter to a CSV scanner, often. */
const csvish = fc
  .array(
    fc.oneof(
      fc.constantFrom(',', '"', '\n', '\r', '\r\n', '""', '\\', 'a', 'b', ' ', 'NULL', 'é', '😀'),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

describe('CsvByteGuard', () => {
  it('refuses what the reader refuses, with the same message and line', () => {
    const cases: [string, string][] = [
      ['id,a\n1,ab"c\n', 'test.csv line 2: quote inside an unquoted field'],
      ['id,a\n1,"ab"c\n', 'test.csv line 2: unexpected character after a closing quote'],
      ['id,a\n1,"ab\n\n', 'test.csv line 2: unclosed quote'],
      // A CR after the closing quote at the very end, on a line with a field too many.
      ['id\n,""\r', 'test.csv line 2: unexpected character after a closing quote'],
      [
        'id,a\n1,"x\ny"\n2\n',
        'test.csv line 4: wrong field count: 1 fields, the header has a different number',
      ],
      ['id,a\n1,\xff\n', 'test.csv byte offset 7: not valid UTF-8'],
    ];
    for (const [text, message] of cases) {
      const bytes = Buffer.from(text, text.includes('\xff') ? 'latin1' : 'utf8');
      for (const size of [1, 2, 5, 1000])
        expect(guard(bytes, {}, size).error, `${text} / ${size}`).toMatch(message);
    }
  });

  it('leaves empty lines and a byte order mark out, and counts records', () => {
    const r = guard(Buffer.from('\ufeffid,a\r\n\r\n1,x\r\n\n2,"y\n\nz"\r\n\r\n'), {}, 3);
    expect(r.bytes?.toString()).toBe('id,a\r\n1,x\r\n2,"y\n\nz"\r\n');
    expect(r.records).toBe(3);
  });

  it('hands over to the row path what a loader would read otherwise', () => {
    for (const text of ['id,a\n1,x\r\n', 'id,a\r\n1,x\n', 'id,a\n1,a\rb\n', 'id,a\n1,x\r']) {
      expect(guard(Buffer.from(text), {}, 2).error, JSON.stringify(text)).toMatch(/byte path cannot carry/);
    }
    expect(guard(Buffer.from('id,a\n1,"a\rb\r\n"\n'), {}, 2).records).toBe(2);
  });

  it('agrees with the reader on any input, however the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        csvish,
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom('"', '\\'),
        fc.boolean(),
        async (text, size, escapeChar, skipEmptyLines) => {
          const bytes = Buffer.from(text);
          const options = { escape: escapeChar, skipEmptyLines };
          const want = await reader(bytes, options);
          const got = guard(bytes, options, size);
          // Only carriage returns make the guard hand an input over to the row path, which then
          // gives the reader's own verdict, whatever it is.
          if (got.error !== undefined && /byte path cannot carry/.test(got.error)) {
            expect(text).toContain('\r');
            return;
          }
          if (want.error !== undefined) {
            expect(got.error, text).toBe(want.error);
            return;
          }
          expect(got.error, text).toBeUndefined();
          // What the guard passes on reads as the same rows, and it counted them (plus the header).
          const again = await reader(got.bytes as Buffer, options);
          expect(again.rows, text).toEqual(want.rows);
          const width = want.rows?.length ? 1 : 0;
          if (width) expect(got.records, text).toBe((want.rows?.length ?? 0) + 1);
        },
      ),
      { numRuns: 3000, examples: [['\r\n,""\r', 1, '"', false]] },
    );
  });
});
