/** JSON reading and writing keeps Decimal and bigint values exact; no number text crashes the reader. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, numberOfText } from '../../src/core/decimal.js';
import { parseJson, stringifyJson } from '../../src/formats/json-exact.js';
import { readAll, writeAll } from './helpers.js';

const decimalText = fc
  .tuple(
    fc.boolean(),
    fc.stringMatching(/^(0|[1-9][0-9]{0,40})$/),
    fc.option(fc.stringMatching(/^[0-9]{1,35}$/), { nil: undefined }),
  )
  .map(
    ([neg, int, frac]) =>
      `${neg && (int !== '0' || /[1-9]/.test(frac ?? '')) ? '-' : ''}${int}${frac ? `.${frac}` : ''}`,
  );

/** What a value reads back as: numbers when a double holds them, else Decimal or bigint. */
function expected(text: string): unknown {
  return numberOfText(text);
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Decimal && b instanceof Decimal) return a.equals(b);
  return Object.is(a, b) || a === b;
}

describe('exact JSON', () => {
  it('reads numbers a double cannot hold as Decimal or bigint, and the rest as numbers', () => {
    expect(parseJson('{"a":12345678901234567890.123456789}')).toEqual({
      a: Decimal.of('12345678901234567890.123456789'),
    });
    expect(parseJson('[9007199254740993, 9007199254740992, 1.10, 1e2, -0, 0.1, 1e400]')).toEqual([
      9007199254740993n,
      // 2^53 is past the safe range: a double holds it, but also stands for 2^53 + 1.
      9007199254740992n,
      1.1,
      100,
      -0,
      0.1,
      Decimal.of('1e400'),
    ]);
    // A digit run inside a string is text, whatever it looks like.
    expect(parseJson('{"id":"12345678901234567890", "n": 12345678901234567890}')).toEqual({
      id: '12345678901234567890',
      n: 12345678901234567890n,
    });
    expect(parseJson('{"__proto__": 12345678901234567890}')).toHaveProperty(
      '__proto__',
      12345678901234567890n,
    );
  });

  it('keeps them exact on the fast path of the reader too (whole records in one chunk)', async () => {
    const text =
      '[{"a": 1, "s": "12345678901234567890"}, {"a": 12345678901234567890.123456789}, {"a": 1.5e400}, {"a": true}]';
    expect(await readAll('json', text, {}, 1 << 16)).toEqual([
      { a: 1, s: '12345678901234567890' },
      { a: Decimal.of('12345678901234567890.123456789') },
      { a: Decimal.of('1.5e400') },
      { a: true },
    ]);
  });

  it('writes Decimal and bigint as JSON numbers with every digit', () => {
    expect(
      stringifyJson({
        a: Decimal.of('-0.000000000000000000000000000001'),
        b: 2n ** 64n,
        c: [Decimal.of('1.50')],
      }),
    ).toBe('{"a":-0.000000000000000000000000000001,"b":18446744073709551616,"c":[1.50]}');
    // A string that looks like the internal marker is still a string.
    expect(stringifyJson({ s: '\u0000x:1' })).toBe('{"s":"\\u0000x:1"}');
  });

  it('round-trips any decimal and bigint through the JSON writer and reader (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(decimalText, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n })), {
          minLength: 1,
          maxLength: 20,
        }),
        async (pairs) => {
          const rows = pairs.map(([t, b], i) => ({ i, d: Decimal.of(t), b }));
          for (const format of ['json', 'ndjson'] as const) {
            const back = await readAll(format, await writeAll(format, rows));
            expect(back.length).toBe(rows.length);
            back.forEach((row, k) => {
              const src = rows[k]!;
              expect(same(row.d, expected(src.d.digits))).toBe(true);
              const n = row.b;
              expect(typeof n === 'bigint' ? n : BigInt(n as number)).toBe(src.b);
            });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never crashes on random number text: a value or a format error (property)', async () => {
    const numberish = fc.stringMatching(/^-?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{0,6})?$/);
    await fc.assert(
      fc.asyncProperty(numberish, async (t) => {
        try {
          const rows = await readAll('json', `[{"v": ${t}}]`);
          const v = rows[0]?.v;
          expect(typeof v === 'number' || typeof v === 'bigint' || v instanceof Decimal).toBe(true);
        } catch (err) {
          expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
        }
      }),
      { numRuns: 300 },
    );
  });
});
