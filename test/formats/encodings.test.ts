import { describe, expect, it } from 'vitest';
import { readAll, writeBytes } from './helpers.js';

const utf16 = (text: string, order: 'le' | 'be', bom = false): Buffer => {
  const le = Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf16le');
  return order === 'le' ? le : le.swap16();
};

const CSV = 'name,city\nCafé 😀,Zürich\n';
const ROWS = [{ name: 'Café 😀', city: 'Zürich' }];

describe('character encodings', () => {
  it('reads ISO-8859-1 and windows-1252 bytes as the characters they stand for', async () => {
    const bytes = Buffer.from([...Buffer.from('v\n'), 0x63, 0x61, 0x66, 0xe9, 0x80, 0x9f, 0x0a]);
    for (const encoding of ['latin1', 'iso-8859-1', 'ISO-8859-1']) {
      expect(await readAll('csv', bytes, { encoding: encoding.toLowerCase() }, 1)).toEqual([
        { v: 'café\u0080\u009f' },
      ]);
    }
    for (const encoding of ['windows1252', 'windows-1252', 'cp1252']) {
      expect(await readAll('csv', bytes, { encoding }, 2)).toEqual([{ v: 'café€Ÿ' }]);
    }
  });

  it('reads UTF-16 in both byte orders, across every chunk boundary, and lets a byte-order mark decide', async () => {
    for (const chunk of [1, 2, 3, 5, 4096]) {
      expect(await readAll('csv', utf16(CSV, 'le'), { encoding: 'utf16le' }, chunk)).toEqual(ROWS);
      expect(await readAll('csv', utf16(CSV, 'be'), { encoding: 'utf-16be' }, chunk)).toEqual(ROWS);
      // The mark wins over the declared encoding and never reaches the first field name.
      expect(await readAll('csv', utf16(CSV, 'be', true), { encoding: 'utf8' }, chunk)).toEqual(ROWS);
      expect(await readAll('csv', utf16(CSV, 'le', true), { encoding: 'latin1' }, chunk)).toEqual(ROWS);
      const utf8Bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV)]);
      expect(await readAll('csv', utf8Bom, { encoding: 'utf16le' }, chunk)).toEqual(ROWS);
    }
    expect(await readAll('json', utf16('[{"a":"ä"}]', 'le', true), {}, 3)).toEqual([{ a: 'ä' }]);
    expect(await readAll('xml', utf16('<r><p><a>ä</a></p></r>', 'be', true), {}, 3)).toEqual([{ a: 'ä' }]);
    expect(await readAll('ndjson', utf16('{"a":"ä"}\n', 'le'), { encoding: 'utf-16le' }, 3)).toEqual([
      { a: 'ä' },
    ]);
  });

  it('keeps UTF-8 characters split across chunks intact', async () => {
    for (let chunk = 1; chunk <= 8; chunk++) expect(await readAll('csv', CSV, {}, chunk)).toEqual(ROWS);
    expect(await readAll('csv', 'v\n\u00e9\n', {}, 2)).toEqual([{ v: 'é' }]);
  });

  it('refuses bytes that are not valid UTF-8 with their byte offset, whatever the chunking', async () => {
    const cases: [Buffer, number][] = [
      [Buffer.from([...Buffer.from('v\ncaf'), 0xe9, 0x0a]), 5], // latin-1 é
      [Buffer.from([...Buffer.from('v\n'), 0xe2, 0x82, 0x41, 0x0a]), 2], // cut sequence
      [Buffer.from([...Buffer.from('v\n€'), 0xc0, 0xaf, 0x0a]), 5], // overlong
      [Buffer.from([...Buffer.from('v\n'), 0xed, 0xa0, 0x80, 0x0a]), 2], // UTF-16 surrogate
      [Buffer.from([...Buffer.from('v\nab'), 0xf0, 0x9f, 0x98]), 4], // unfinished at the end
      [Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('v\n'), 0xff]), 5], // after a mark
    ];
    for (const [bytes, offset] of cases) {
      for (const chunk of [1, 2, 3, 4, 4096]) {
        const err = await readAll('csv', bytes, {}, chunk).catch((e: unknown) => e);
        expect(err, `${bytes.toString('hex')} / ${chunk}`).toMatchObject({ code: 'FORMAT_ERROR' });
        expect(String(err), `${bytes.toString('hex')} / ${chunk}`).toContain(
          `test.csv byte offset ${offset}: not valid UTF-8`,
        );
      }
    }
  });

  it('reads invalid bytes as U+FFFD with invalidBytes replace', async () => {
    const bytes = Buffer.from([...Buffer.from('v\ncaf'), 0xe9, 0x0a]);
    expect(await readAll('csv', bytes, { invalidBytes: 'replace' }, 3)).toEqual([{ v: 'caf\ufffd' }]);
    expect(
      await readAll('csv', Buffer.from([0x76, 0x0a, 0xe9]), { encoding: 'ascii', invalidBytes: 'replace' }),
    ).toEqual([{ v: '\ufffd' }]);
  });

  it('refuses bytes outside US-ASCII and unpaired UTF-16 surrogates with their offset', async () => {
    const ascii = await readAll('csv', Buffer.from([0x76, 0x0a, 0x61, 0xe9]), { encoding: 'ascii' }, 1).catch(
      (e: unknown) => e,
    );
    expect(String(ascii)).toContain('byte offset 3: not valid US-ASCII');
    const lone = Buffer.concat([utf16('v\na', 'le'), Buffer.from([0x3d, 0xd8, 0x61, 0x00])]);
    for (const chunk of [1, 3, 4096]) {
      const err = await readAll('csv', lone, { encoding: 'utf16le' }, chunk).catch((e: unknown) => e);
      expect(String(err), String(chunk)).toContain('byte offset 6: not valid UTF-16LE');
    }
  });

  it('writes every encoding it reads, and refuses characters an encoding cannot hold', async () => {
    for (const encoding of ['utf16le', 'utf16be', 'utf8']) {
      const bytes = await writeBytes('csv', ROWS, { encoding });
      expect(await readAll('csv', bytes, { encoding }, 3)).toEqual(ROWS);
    }
    const cp = await writeBytes('csv', [{ v: 'café €' }], { encoding: 'windows-1252' });
    expect([...cp.subarray(-3)]).toEqual([0x20, 0x80, 0x0a]);
    expect(await readAll('csv', cp, { encoding: 'windows1252' })).toEqual([{ v: 'café €' }]);
    await expect(writeBytes('csv', [{ v: 'café €' }], { encoding: 'latin1' })).rejects.toThrow(
      /U\+20AC cannot be written in ISO-8859-1/,
    );
    await expect(writeBytes('json', [{ v: 'é' }], { encoding: 'ascii' })).rejects.toMatchObject({
      code: 'FORMAT_ERROR',
    });
    // XML escapes what the encoding cannot hold instead.
    const xml = await writeBytes('xml', [{ v: '€😀é' }], { encoding: 'windows1252' });
    expect(xml.toString('latin1')).toContain('encoding="windows-1252"');
    expect(await readAll('xml', xml, { encoding: 'windows1252' })).toEqual([{ v: '€😀é' }]);
  });
});
