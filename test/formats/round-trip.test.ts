/**
 * Every format's writer and reader agree: rows written read back identical, whatever the text (nulls,
 * empty text, line breaks, quotes, astral characters); and random bytes fed to a reader end in rows or
 * in a 400-class error that names where, never in another exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { readAll, writeBytes } from './helpers.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 cannot hold at all
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const tricky = fc.constantFrom(
  '',
  ' ',
  'NULL',
  '\\N',
  '"',
  "'",
  ',',
  ';',
  '\r',
  '\n',
  '\r\n',
  '<a>&amp;',
  ']]>',
  '😀',
  'e\u0301',
);
const text = fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ maxLength: 8 }));
const rows = fc.array(fc.record({ a: fc.option(text, { nil: null }), b: fc.option(text, { nil: null }) }), {
  minLength: 1,
  maxLength: 20,
});

describe('format round trips', () => {
  for (const format of ['csv', 'json', 'ndjson', 'xml'] as const)
    it(`${format}: rows written read back identical`, async () => {
      await fc.assert(
        fc.asyncProperty(rows, async (generated) => {
          const input = generated
            .map((r, i) => ({ id: String(i + 1), ...r }))
            .filter((r) => format !== 'xml' || ![r.a, r.b].some((v) => v !== null && NOT_XML.test(v)));
          if (input.length === 0) return;
          const bytes = await writeBytes(format, input);
          expect(await readAll(format, bytes), bytes.toString()).toEqual(input);
        }),
        { numRuns: 300 },
      );
    });

  for (const format of ['csv', 'json', 'ndjson', 'xml'] as const)
    it(`${format}: random bytes end in rows or a 400-class error, never a crash`, async () => {
      const alphabet = fc.constantFrom(
        ...'<>/="\'&;#x0123abc,{}[]:\\\n\r \t'.split(''),
        '<a>',
        '</a>',
        '<![CDATA[',
        '&#13;',
        '"a":',
        '\u00e9',
      );
      const input = fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        fc.array(alphabet, { maxLength: 60 }).map((parts) => Buffer.from(parts.join(''))),
      );
      await fc.assert(
        fc.asyncProperty(input, async (bytes) => {
          try {
            await readAll(format, bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(AppError);
            const e = err as AppError;
            expect(e.status, e.message).toBeGreaterThanOrEqual(400);
            expect(e.status, e.message).toBeLessThan(500);
            expect(e.message).toMatch(/^test\.\w+ /);
          }
        }),
        { numRuns: 500 },
      );
    });
});
