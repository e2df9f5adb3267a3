import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { AppError } from '../../src/core/errors.js';
import { analyzeExpression, compileExpression } from '../../src/transforms/expression.js';

const run = (source: string, row: Record<string, unknown> = {}, params: Record<string, unknown> = {}) =>
  compileExpression(source, 'expr')(row, params);

function compileError(source: string): AppError {
  try {
    compileExpression(source, 'steps[0].transforms[1].expression');
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`expected '${source}' to be rejected`);
}

describe('expression operators', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['7 % 4', 3],
    ['9 / 2', 4.5],
    ['-2 * 3', -6],
    ['+ 2', 2],
    ['2 * -x', -8],
    ["'a' & 'b' & 1", 'ab1'],
    ["'a' + 'b'", 'ab'],
    ["'12' + 1", 13],
    ["'x' + 1", 'x1'],
    ["1 + 2 & 'x'", '3x'],
    ['1 = 1', true],
    ['1 == 2', false],
    ['1 != 2', true],
    ['1 <> 1', false],
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 2', true],
    ['2 >= 3', false],
    ["'10' = 10", true],
    ["'b' > 'a'", true],
    ['true and false', false],
    ['true or false', true],
    ['not false', true],
    ['NOT 1 = 2', true],
    ['1 = 1 or 1 = 2 and false', true],
    ['x in (1, 4, 5)', true],
    ['x not in (1, 4)', false],
    ["'b' in ('a', 'b')", true],
    ['x is null', false],
    ['x is not null', true],
    ['nothing is null', true],
    ['x > 3 ? "big" : "small"', 'big'],
    ['if(x > 9, "big", "small")', 'small'],
    ['true ? 1 : false ? 2 : 3', 1],
    ['.5 + 1e2', 100.5],
  ])('%s', (source, expected) => {
    expect(run(source, { x: 4 })).toEqual(expected);
  });

  it('propagates null through arithmetic and makes comparisons false', () => {
    for (const op of ['+', '-', '*', '/', '%']) expect(run(`n ${op} 1`, { n: null })).toBeNull();
    expect(run('-n', { n: null })).toBeNull();
    for (const op of ['=', '!=', '<', '<=', '>', '>=']) expect(run(`n ${op} 1`, { n: null })).toBe(false);
    expect(run('null = null')).toBe(false);
    expect(run('n in (null, 1)', { n: null })).toBe(false);
    expect(run("n & 'x'", { n: null })).toBe('x');
    expect(run('not n', { n: null })).toBe(true);
  });

  it('reads odd column names and parameters', () => {
    expect(run('`order id` * 2', { 'order id': 3 })).toBe(6);
    expect(run('row["order id"] & row[\'x\']', { 'order id': 'a', x: 'b' })).toBe('ab');
    expect(run('{min} + $max', {}, { min: 1, max: 2 })).toBe(3);
    expect(run('row', { row: 5 })).toBe(5);
    expect(run('`process`', { process: 'p' })).toBe('p');
    expect(run('toString', {})).toBeNull();
    expect(() => run('{missing}')).toThrow("parameter 'missing' is not set");
  });

  it('names the column in runtime errors', () => {
    expect(() => run('price * 2', { price: 'abc' })).toThrow("column 'price' is 'abc'");
    expect(() => run('a / b', { a: 1, b: 0 })).toThrow("division by zero: column 'b' is 0");
    expect(() => run('number(p)', { p: '12x' })).toThrow(
      "number() (column 'p'): cannot convert '12x' to number",
    );
  });

  it('infers result types and referenced columns', () => {
    const types = (s: string) => analyzeExpression(s, 'e').type((n) => (n === 'qty' ? 'integer' : undefined));
    expect(types('price * qty')).toBe('number');
    expect(types('qty * 2')).toBe('integer');
    expect(types('qty / 2')).toBe('number');
    expect(types('upper(name)')).toBe('text');
    expect(types('qty > 1')).toBe('boolean');
    expect(types('now()')).toBe('timestamp');
    expect(types('if(qty > 1, qty, null)')).toBe('integer');
    expect([...analyzeExpression('a + b * `c d`', 'e').columns]).toEqual(['a', 'b', 'c d']);
  });
});

describe('expression functions', () => {
  const row = { s: '  Hello ', n: -2.5, d: '2024-03-15T10:20:30Z', list: 'a,b,c' };
  it.each([
    ['upper(s)', '  HELLO '],
    ['lower(s)', '  hello '],
    ['trim(s)', 'Hello'],
    ['length(s)', 8],
    ['length(split(list, ","))', 3],
    ["substr('abcdef', 2, 3)", 'bcd'],
    ["substr('abcdef', 4)", 'def'],
    ["replace('a-b-c', '-', '+')", 'a+b+c'],
    ["concat('a', null, 1)", 'a1'],
    ["coalesce(null, nothing, 'x')", 'x'],
    ['round(2.345, 2)', 2.35],
    ['round(n)', -3],
    ['floor(n)', -3],
    ['ceil(n)', -2],
    ['abs(n)', 2.5],
    ["number('1.5e1')", 15],
    ["int('42')", 42],
    ['int(n)', -2],
    ['string(12)', '12'],
    ["bool('yes')", true],
    ["bool('0')", false],
    ['year(d)', 2024],
    ['month(d)', 3],
    ['day(d)', 15],
    ["format_date(d, 'DD.MM.YYYY HH:mm:ss')", '15.03.2024 10:20:30'],
    ['format_date(d)', '2024-03-15'],
    ["format_date(date('15/03/2024', 'DD/MM/YYYY'))", '2024-03-15'],
    ['split(list, ",")', ['a', 'b', 'c']],
    ["contains(s, 'ell')", true],
    ["contains(split(list, ','), 'b')", true],
    ["starts_with('abc', 'ab')", true],
    ["ends_with('abc', 'bc')", true],
    ["matches('AB-12', '^[a-z]{2}-\\d+$', 'i')", true],
    ["matches('AB-12', '^x')", false],
    ["md5('abc')", '900150983cd24fb0d6963f7d28e17f72'],
    ["sha256('abc')", 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['upper(nothing)', null],
  ])('%s', (source, expected) => {
    expect(run(source, row)).toEqual(expected);
  });

  it('has now, today, date and uuid', () => {
    expect(run('now()')).toBeInstanceOf(Date);
    expect(run('today()')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(run("date('2024-01-02')")).toEqual(new Date('2024-01-02T00:00:00Z'));
    expect(run('uuid()')).toMatch(/^[0-9a-f-]{36}$/);
    expect(run('uuid()')).not.toBe(run('uuid()'));
    expect(() => run("date('2024-02-30')")).toThrow('needs a date');
  });
});

describe('expression safety and compile errors', () => {
  it('names path and position for unknown functions', () => {
    const err = compileError('1 + uper(name)');
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toBe(
      "steps[0].transforms[1].expression at column 5: unknown function 'uper' (did you mean 'upper'?)",
    );
    expect(err.details).toEqual([
      { path: 'steps[0].transforms[1].expression', message: expect.stringContaining('uper') },
    ]);
  });

  it.each([
    'constructor',
    '__proto__',
    '`__proto__`',
    'row["constructor"]',
    'prototype',
    'process',
    'globalThis',
    'this',
    'require("fs")',
    'Function("return 1")',
    'eval("1")',
    'x.constructor',
    'upper.constructor',
    'x["a"]',
    'import("fs")',
    '`a` = `',
    "'abc",
    '1 +',
    '(1',
    'upper(1, 2)',
    'if(1, 2)',
    'a b',
    '1 is 2',
    '1 not 2',
    "matches(a, '(')",
    `matches(a, '${'a'.repeat(201)}')`,
    '1 / 0',
    "'a' * 2",
    '',
    '12x',
    '#',
    '{1}',
  ])('rejects %s', (source) => {
    expect(compileError(source).code).toBe('VALIDATION_FAILED');
  });

  it('rejects very deep and very long expressions', () => {
    expect(compileError(`${'('.repeat(100)}1${')'.repeat(100)}`).message).toContain('nested deeper');
    expect(compileError(`${'not '.repeat(100)}true`).message).toContain('nested deeper');
    expect(compileError(`${'-'.repeat(100)}1`).message).toContain('nested deeper');
    expect(compileError('1 + '.repeat(2000) + '1').message).toContain('longer than');
  });

  it('evaluates a long flat chain', () => {
    expect(run(`${'x + '.repeat(900)}x`, { x: 1 })).toBe(901);
  });
});

describe('number literals keep their value (the JSON number rule)', () => {
  const digits = (v: unknown) => (v instanceof Decimal ? v.toString() : v);

  it.each([
    ['0.1', 0.1],
    ['1.10', 1.1],
    ['.5', 0.5],
    ['1e2', 100],
    ['9007199254740993', 9007199254740993n],
    ['12345678901234567890.123456789', '12345678901234567890.123456789'],
    ['0.123456789012345678901234567890', '0.123456789012345678901234567890'],
    ['-12345678901234567890.5', '-12345678901234567890.5'],
  ])('%s', (source, expected) => {
    expect(digits(run(source))).toEqual(expected);
  });

  it('computes exactly with a literal no double holds', () => {
    expect(digits(run('x + 0.000000000000000000001', { x: new Decimal('1') }))).toBe(
      '1.000000000000000000001',
    );
    expect(digits(run('x * 10000000000000000001', { x: 3 }))).toBe(30000000000000000003n);
    expect(run('x = 9007199254740993', { x: 9007199254740993n })).toBe(true);
    expect(run('x = 9007199254740993', { x: 9007199254740992 })).toBe(false);
  });

  it('types a computed column from its literal', () => {
    const typeOf = (source: string) => analyzeExpression(source, 'expr').type(() => undefined);
    expect(typeOf('12345678901234567890.5')).toBe('decimal');
    expect(typeOf('9007199254740993')).toBe('bigint');
    expect(typeOf('1.5')).toBe('number');
  });

  it('refuses a literal beyond what a decimal holds, naming where', () => {
    expect(compileError('1 + 1e999999999').message).toMatch(
      /column 5: the number 1e999999999 is out of range/,
    );
  });
});
