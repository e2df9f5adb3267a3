import { describe, expect, it } from 'vitest';
import { copyTextBatch, copyTextField } from '../../src/connectors/postgres/copy-text.js';

describe('PostgreSQL COPY text encoding', () => {
  it('passes plain text through and escapes what COPY text reads specially', () => {
    expect(copyTextField('plain, "quoted" ü')).toBe('plain, "quoted" ü');
    expect(copyTextField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyTextField('\\N')).toBe('\\\\N');
  });

  it('drops NUL characters, which PostgreSQL text cannot hold, and still escapes the rest', () => {
    expect(copyTextField('a\0b')).toBe('ab');
    expect(copyTextField('\0a\tb\0')).toBe('a\\tb');
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
