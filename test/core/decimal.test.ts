import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, integerFromText } from '../../src/core/decimal.js';

const d = (s: string) => Decimal.of(s);

describe('Decimal', () => {
  it('keeps canonical digits, scale included, and normalises other number text', () => {
    expect(d('1.50').digits).toBe('1.50');
    expect(d('+007.5').digits).toBe('7.5');
    expect(d('-0.00').digits).toBe('0.00');
    expect(d('1e-7').digits).toBe('0.0000001');
    expect(d('1.5E3').digits).toBe('1500');
    expect(d('.5').digits).toBe('0.5');
    expect(Decimal.parse('abc')).toBeUndefined();
    expect(Decimal.parse('1e100000')).toBeUndefined();
    expect(() => d('NaN')).toThrow(RangeError);
  });

  it('compares values, not text', () => {
    expect(d('1.5').equals(d('1.500'))).toBe(true);
    expect(d('-2').compare(d('1'))).toBe(-1);
    expect(d('12345678901234567890.1').compare(d('12345678901234567890.01'))).toBe(1);
  });

  it('adds, subtracts, multiplies and takes remainders exactly; divides to 20 more digits', () => {
    expect(d('0.1').add(d('0.2')).digits).toBe('0.3');
    expect(d('12345678901234567890.123456789').sub(d('0.000000001')).digits).toBe(
      '12345678901234567890.123456788',
    );
    expect(d('1.5').mul(d('-2.25')).digits).toBe('-3.375');
    expect(d('-7.5').mod(d('2')).digits).toBe('-1.5');
    expect(d('1').div(d('3')).digits).toBe('0.33333333333333333333');
    expect(d('2').div(d('3')).digits).toBe('0.66666666666666666667');
    expect(d('6').div(d('2')).digits).toBe('3');
    expect(() => d('1').div(d('0'))).toThrow('division by zero');
  });

  it('rounds half away from zero', () => {
    expect(d('2.5').round(0).digits).toBe('3');
    expect(d('-2.5').round(0).digits).toBe('-3');
    expect(d('1.005').round(2).digits).toBe('1.01');
    expect(d('1250').round(-2).digits).toBe('1300');
  });

  it('applies the integer rule: numbers when safe, bigints beyond', () => {
    expect(integerFromText('9007199254740991')).toBe(9007199254740991);
    expect(integerFromText('9007199254740993')).toBe(9007199254740993n);
    expect(integerFromText('-9223372036854775808')).toBe(-9223372036854775808n);
  });

  it('agrees with bigint arithmetic on random scaled integers', () => {
    const scaled = fc.tuple(
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
      fc.integer({ min: 0, max: 35 }),
    );
    const of = ([u, s]: [bigint, number]) => {
      const neg = u < 0n;
      let body = (neg ? -u : u).toString().padStart(s + 1, '0');
      if (s > 0) body = `${body.slice(0, body.length - s)}.${body.slice(body.length - s)}`;
      return Decimal.of(neg ? `-${body}` : body);
    };
    fc.assert(
      fc.property(scaled, scaled, (x, y) => {
        const a = of(x);
        const b = of(y);
        expect(Decimal.of(a.digits).equals(a)).toBe(true);
        expect(a.add(b).sub(b).equals(a)).toBe(true);
        expect(a.mul(b).equals(b.mul(a))).toBe(true);
        expect(Math.sign(a.compare(b))).toBe(-Math.sign(b.compare(a)));
      }),
    );
  });
});
