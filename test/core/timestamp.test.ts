import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareInstants, instantOf, microsOf, parseTimestamp, Timestamp } from '../../src/core/timestamp.js';
import { stringifyJson } from '../../src/formats/json-exact.js';

const MIN = Date.UTC(1001, 0, 1);
const MAX = Date.UTC(9998, 11, 31, 23, 59, 59, 999);
const instant = fc.tuple(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: 0, max: 999 }));

describe('timestamps to the microsecond', () => {
  it('prints six fraction digits and reads them back, in every form databases write', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -14 * 60, max: 14 * 60 }), ([ms, micros], offset) => {
        const t = instantOf(ms, micros);
        const text = t.toISOString();
        const back = parseTimestamp(text)!;
        expect(back.getTime()).toBe(ms);
        expect(microsOf(back)).toBe(micros);
        // The same instant written with an offset, as PostgreSQL prints timestamptz.
        const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23).replace('T', ' ');
        const sign = offset < 0 ? '-' : '+';
        const zone = `${sign}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
        const withOffset = parseTimestamp(`${local}${String(micros).padStart(3, '0')}${zone}`)!;
        expect(compareInstants(withOffset, t)).toBe(0);
        expect(JSON.parse(stringifyJson({ t }))).toEqual({ t: text });
      }),
      { numRuns: 2000 },
    );
  });

  it('orders to the microsecond', () => {
    fc.assert(
      fc.property(instant, instant, ([a, am], [b, bm]) => {
        const sign = Math.sign(compareInstants(instantOf(a, am), instantOf(b, bm)));
        expect(sign).toBe(Math.sign(a - b || am - bm));
      }),
    );
  });

  it('refuses what is no timestamp, or holds digits it would lose, and never throws', () => {
    for (const text of [
      '2024-02-30',
      '2024-13-01',
      '2024-01-01T25:00',
      '2024-01-01T00:00:00.1234567Z',
      'now',
      '',
    ])
      expect(parseTimestamp(text), text).toBeUndefined();
    expect(parseTimestamp('2024-01-01T00:00:00.123456000Z')?.toISOString()).toBe(
      '2024-01-01T00:00:00.123456Z',
    );
    expect(parseTimestamp('0044-03-15 12:00:00+00 BC')?.getUTCFullYear()).toBe(-43);
    expect(parseTimestamp('1900-01-01 00:00:00+00:53:28')?.toISOString()).toBe('1899-12-31T23:06:32.000Z');
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (text) => void parseTimestamp(text)));
  });

  it('is a Date wherever one is taken, and a plain Date when it has no microseconds', () => {
    const t = instantOf(0, 5);
    expect(t).toBeInstanceOf(Date);
    expect(t).toBeInstanceOf(Timestamp);
    expect(instantOf(0, 0)).not.toBeInstanceOf(Timestamp);
    expect(JSON.stringify([t])).toBe('["1970-01-01T00:00:00.000005Z"]');
  });
});
