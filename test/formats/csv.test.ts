import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { bindFormat } from '../../src/formats/registry.js';
import { generated, readAll, writeAll, writeBytes } from './helpers.js';

describe('csv format', () => {
  it('reads a header and rows, empty unquoted as null, "" as empty string', async () => {
    const rows = await readAll('csv', 'id,name,note\n1,"Smith, J",\n2,"say ""hi""",""\n');
    expect(rows).toEqual([
      { id: '1', name: 'Smith, J', note: null },
      { id: '2', name: 'say "hi"', note: '' },
    ]);
  });

  it('honours delimiter, quote, escape, nullValue and trim', async () => {
    const text = "a;b;c\n 1 ;'x;y';NULL\n2;'it\\'s';'NULL'\n";
    const rows = await readAll('csv', text, {
      delimiter: ';',
      quote: "'",
      escape: '\\',
      nullValue: 'NULL',
      trim: true,
    });
    expect(rows).toEqual([
      { a: '1', b: 'x;y', c: null },
      { a: '2', b: "it's", c: 'NULL' },
    ]);
  });

  it('keeps a column named __proto__ as an own field', async () => {
    const rows = await readAll('csv', '__proto__,constructor\n1,2\n');
    expect(rows).toEqual([JSON.parse('{"__proto__":"1","constructor":"2"}')]);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('names fields col1..n or by `columns` when header=false', async () => {
    expect(await readAll('csv', '1,2\n3,4\n', { header: false })).toEqual([
      { col1: '1', col2: '2' },
      { col1: '3', col2: '4' },
    ]);
    expect(await readAll('csv', '1,2\n', { header: false, columns: ['a', 'b'] })).toEqual([
      { a: '1', b: '2' },
    ]);
    expect(await readAll('csv', 'x,y\n1,2\n', { columns: ['a', 'b'] })).toEqual([{ a: '1', b: '2' }]);
  });

  it('decodes latin1 and strips a UTF-8 byte-order mark', async () => {
    const latin1 = Buffer.from('name\nJosé Müller\n', 'latin1');
    expect(await readAll('csv', latin1, { encoding: 'latin1' })).toEqual([{ name: 'José Müller' }]);
    expect(await readAll('csv', '\ufeffname\nÅsa\n', {}, 1)).toEqual([{ name: 'Åsa' }]);
  });

  it('skips empty lines and accepts CRLF', async () => {
    expect(await readAll('csv', 'a,b\r\n\r\n1,2\r\n\r\n')).toEqual([{ a: '1', b: '2' }]);
  });

  it('reports an unclosed quote with source and line', async () => {
    const err = await readAll('csv', 'a,b\n1,2\n3,"open\n4,5\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
    expect(String(err)).toMatch(/test\.csv line \d+: unclosed quote/);
  });

  it('reports a wrong field count with the line number', async () => {
    const err = await readAll('csv', 'a,b\n1,2\n3,4,5\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
    expect(String(err)).toMatch(/test\.csv line 3: wrong field count/);
  });

  it('rejects invalid options with VALIDATION_FAILED', () => {
    expect(() => bindFormat({ type: 'csv', options: { delimiter: ';;' } })).toThrow(
      /csv options: \/delimiter/,
    );
    expect(() => bindFormat({ type: 'csv', options: { bogus: 1 } })).toThrow(AppError);
  });

  it('writes header and rows; round-trips null, empty, quotes, dates and booleans', async () => {
    const rows = [
      { id: 1, name: 'a,b', note: null, at: new Date('2024-01-02T03:04:05.000Z'), ok: true },
      { id: 2, name: 'say "x"\nnext', note: '', at: null, ok: false },
    ];
    const text = await writeAll('csv', rows);
    expect(text.split('\n')[0]).toBe('id,name,note,at,ok');
    expect(text).toContain('2024-01-02T03:04:05.000Z');
    expect(await readAll('csv', text)).toEqual([
      { id: '1', name: 'a,b', note: null, at: '2024-01-02T03:04:05.000Z', ok: 'true' },
      { id: '2', name: 'say "x"\nnext', note: '', at: null, ok: 'false' },
    ]);
  });

  it('writes with options (delimiter, nullValue, no header, latin1)', async () => {
    const text = await writeAll('csv', [{ a: 1, b: null }], {
      delimiter: ';',
      nullValue: 'NULL',
      header: false,
    });
    expect(text).toBe('1;NULL\n');
    const bytes = await writeBytes('csv', [{ n: 'é' }], { encoding: 'latin1' });
    expect(bytes.equals(Buffer.from('n\né\n', 'latin1'))).toBe(true);
  });

  it('streams a large input in batches before the input ends', async () => {
    const count = 200_000;
    let produced = 0;
    const input = generated(
      count,
      (i) => {
        produced = i;
        return `${i},name ${i},${i * 1.5}\n`;
      },
      'id,name,value\n',
    );
    let total = 0;
    let firstBatchAt = -1;
    for await (const batch of bindFormat({ type: 'csv' }).read(input, {
      source: 'big.csv',
      batchSize: 5000,
    })) {
      if (firstBatchAt < 0) firstBatchAt = produced;
      expect(batch.length).toBeLessThanOrEqual(5000);
      total += batch.length;
    }
    expect(total).toBe(count);
    expect(firstBatchAt).toBeLessThan(count / 2);
  });
});

describe('csv fast path', () => {
  it('treats every field equal to nullValue as null when distinguishQuoted=false', async () => {
    expect(await readAll('csv', 'a,b\n"",\n', { distinguishQuoted: false })).toEqual([{ a: null, b: null }]);
  });
});

describe('csv reader details', () => {
  it('tells "" from null after skipped empty lines and multi-line records', async () => {
    expect(await readAll('csv', 'a,b\n\n"",x\r\n\r\n"l1\nl2",""\n,\n', {}, 1)).toEqual([
      { a: '', b: 'x' },
      { a: 'l1\nl2', b: '' },
      { a: null, b: null },
    ]);
    const text = "a;b\n'x\\\\';NULL\n'NULL';'it\\'s'\n";
    expect(
      await readAll('csv', text, { delimiter: ';', quote: "'", escape: '\\', nullValue: 'NULL' }),
    ).toEqual([
      { a: 'x\\', b: null },
      { a: 'NULL', b: "it's" },
    ]);
  });

  it('keeps CRLF inside quotes and a lone CR in a field; trims around quotes', async () => {
    expect(await readAll('csv', 'a,b\r\n"x\r\ny",p\rq\r\n')).toEqual([{ a: 'x\r\ny', b: 'p\rq' }]);
    expect(await readAll('csv', 'a,b\n  " x " , y \n', { trim: true })).toEqual([{ a: ' x ', b: 'y' }]);
  });

  it('reads every chunking of the same input alike', async () => {
    const text = 'id,"na,me"\r\n1,"a ""q"" b"\r\n2,\r\n3,""\r\n"4","multi\nline"';
    const whole = await readAll('csv', text, {}, 4096);
    expect(whole).toHaveLength(4);
    for (const size of [1, 2, 3, 5]) expect(await readAll('csv', text, {}, size)).toEqual(whole);
  });

  it('reports bad quoting and field counts at the line where the record or quote starts', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a,b\n"1\n2",x\n3,4,5\n', {}, /line 4: wrong field count: 3 fields, the header has/],
      ['a,b\n1,2\n3,"x\n\n', {}, /line 3: unclosed quote/],
      ['a,b\n1,x"y\n', {}, /line 2: quote inside an unquoted field/],
      ['a,b\n1,"x"y\n', {}, /line 2: unexpected character after a closing quote/],
      ['1,2\n3\n', { header: false }, /line 2: wrong field count: 1 fields, the first line has/],
      ['a,b\n1,2\n\n3,4\n', { skipEmptyLines: false }, /line 3: wrong field count/],
    ];
    for (const [text, options, message] of cases) {
      const err = await readAll('csv', text, options).catch((e: unknown) => e);
      expect(err, text).toMatchObject({ code: 'FORMAT_ERROR' });
      expect(String(err), text).toMatch(message);
    }
  });
});

describe('csv writer with a distinct escape character', () => {
  it('round-trips values holding the escape and the quote', async () => {
    const o = { escape: '\\' };
    const rows = [{ a: 'ends\\', b: 'q"\\"x', c: 'plain\\' }];
    const text = await writeAll('csv', [{ a: 'ends\\,', b: 'q"\\"x', c: 'plain\\' }], o);
    expect(text).toBe('a,b,c\n"ends\\\\,","q\\"\\\\\\"x",plain\\\n');
    expect(await readAll('csv', text, o)).toEqual([{ ...rows[0], a: 'ends\\,' }]);
  });
});
