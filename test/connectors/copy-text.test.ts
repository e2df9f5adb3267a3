import { describe, expect, it } from 'vitest';
import { copyTextBatch, copyTextField, refuseNul } from '../../src/connectors/postgres/copy-text.js';

describe('PostgreSQL COPY text encoding', () => {
  it('passes plain text through and escapes what COPY text reads specially', () => {
    expect(copyTextField('plain, "quoted" ü')).toBe('plain, "quoted" ü');
    expect(copyTextField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyTextField('\\N')).toBe('\\\\N');
  });

  it('refuses text holding NUL, which PostgreSQL text cannot store, naming the record and field', () => {
    const rows = [
      { a: 'fine', b: 'x' },
      { a: 'also\tfine', b: 'bad\0byte' },
    ];
    expect(() => copyTextBatch(rows, ['a', 'b'], 41)).toThrow(
      /record 42, field 'b': the text "bad\\u0000byte" holds a NUL character/,
    );
    expect(() => refuseNul([{ a: 1 }, { a: '\0' }])).toThrow(/record 2, field 'a'/);
    expect(() => refuseNul([{ a: 'x', j: { s: '\0' } }])).not.toThrow();
  });

  it('writes nulls, numbers, booleans, dates, bytes and objects', () => {
    expect(copyTextField(null)).toBe('\\N');
    expect(copyTextField(undefined)).toBe('\\N');
    expect(copyTextField(1.5)).toBe('1.5');
    expect(copyTextField(Number.NaN)).toBe('NaN');
    expect(copyTextField(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(copyTextField(12n)).toBe('12');
    expect(copyTextField(true)).toBe('t');
    expect(copyTextField(new Date('2024-01-02T03:04:05Z'))).toBe('2024-01-02T03:04:05.000Z');
    expect(copyTextField(new Date(Number.NaN))).toBe('\\N');
    expect(copyTextField(new Uint8Array([1, 255]))).toBe('\\\\x01ff');
    expect(copyTextField({ a: 'x\ty' })).toBe('{"a":"x\\\\ty"}');
  });

  it('writes a batch as one line per row in the order of the names', () => {
    const rows = [
      { b: 'x', a: 1 },
      { a: 2, b: null },
    ];
    expect(copyTextBatch(rows, ['a', 'b'])).toBe('1\tx\n2\t\\N\n');
  });
});
