import { describe, expect, it } from 'vitest';
import { bindFormat } from '../../src/formats/registry.js';
import { generated, readAll, writeAll, writeBytes } from './helpers.js';

const PATIENTS = `<?xml version="1.0" encoding="UTF-8"?>
<!-- demo -->
<patients source="x">
  <patient id="1">
    <name>Ann &amp; Bo</name>
    <birthdate>1980-01-02</birthdate>
    <address><city>Oslo</city><zip/></address>
  </patient>
  <patient id="2"><name><![CDATA[<b>Bold</b>]]></name><birthdate></birthdate><phone>1</phone><phone>2</phone></patient>
</patients>`;

describe('xml format', () => {
  it('reads the repeated children of the root by default', async () => {
    expect(await readAll('xml', PATIENTS)).toEqual([
      { id: '1', name: 'Ann & Bo', birthdate: '1980-01-02', address: { city: 'Oslo', zip: null } },
      { id: '2', name: '<b>Bold</b>', birthdate: null, phone: ['1', '2'] },
    ]);
  });

  it('reads records at a recordPath with an attribute prefix', async () => {
    const doc =
      '<r><meta><x>1</x></meta><list><item code="a">t</item><item code="b"><v>2</v></item></list></r>';
    expect(await readAll('xml', doc, { recordPath: 'r/list/item', attributePrefix: '@' })).toEqual([
      { '@code': 'a', '#text': 't' },
      { '@code': 'b', v: '2' },
    ]);
  });

  it('keeps empty elements as empty strings when emptyAsNull=false, and honours xsi:nil', async () => {
    const doc =
      '<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><e><a/><b xsi:nil="true">x</b></e></r>';
    expect(await readAll('xml', doc, { emptyAsNull: false })).toEqual([{ a: '', b: null }]);
  });

  it('reports malformed XML with line and column', async () => {
    const err = await readAll('xml', '<r>\n<p><a>1</b></p>\n</r>').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
    expect(String(err)).toMatch(/test\.xml line 2 column \d+: /);
    await expect(readAll('xml', '<r><p><a>1</a></p>')).rejects.toThrow(/test\.xml line 1/);
  });

  it('refuses billion laughs without expanding anything', async () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz><r><v>&lol3;</v></r></lolz>`;
    const err = await readAll('xml', lol).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT_ERROR' });
    expect(String(err)).toMatch(/DOCTYPE declares entities/);
  });

  it('refuses external entities and external DTDs', async () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><p><v>&x;</v></p></r>';
    await expect(readAll('xml', xxe)).rejects.toThrow(/entities/);
    const dtd = '<!DOCTYPE r SYSTEM "http://example.com/evil.dtd"><r><p><v>1</v></p></r>';
    await expect(readAll('xml', dtd)).rejects.toThrow(/external DTD/);
    await expect(readAll('xml', '<r><p><v>&undefined;</v></p></r>')).rejects.toThrow(/FORMAT_ERROR|entity/i);
  });

  it('accepts a bare DOCTYPE', async () => {
    expect(await readAll('xml', '<!DOCTYPE r><r><p><v>1</v></p></r>')).toEqual([{ v: '1' }]);
  });

  it('decodes latin1', async () => {
    const doc = Buffer.from(
      '<?xml version="1.0" encoding="ISO-8859-1"?><r><p><n>Gödel</n></p></r>',
      'latin1',
    );
    expect(await readAll('xml', doc, { encoding: 'latin1' })).toEqual([{ n: 'Gödel' }]);
  });

  it('writes escaped values under rootElement/recordElement and round-trips', async () => {
    const rows = [
      {
        id: 1,
        name: 'a < b & "c"',
        at: new Date('2024-01-01T00:00:00.000Z'),
        tags: ['x', 'y'],
        addr: { city: 'Z' },
      },
      { id: 2, name: null, 'bad name': 'v' },
    ];
    const xml = await writeAll('xml', rows, { rootElement: 'patients', recordElement: 'patient' });
    expect(xml).toContain('<patients>');
    expect(xml).toContain('<name>a &lt; b &amp; &quot;c&quot;</name>');
    expect(await readAll('xml', xml, { recordPath: 'patients/patient' })).toEqual([
      { id: '1', name: 'a < b & "c"', at: '2024-01-01T00:00:00.000Z', tags: ['x', 'y'], addr: { city: 'Z' } },
      { id: '2', name: null, bad_name: 'v' },
    ]);
  });

  it('writes attributes with a prefix and latin1 with character references', async () => {
    const xml = await writeAll('xml', [{ '@id': 5, v: 'x' }], { attributePrefix: '@' });
    expect(xml).toContain('<record id="5"><v>x</v></record>');
    const bytes = await writeBytes('xml', [{ v: 'é€' }], { encoding: 'latin1' });
    expect(bytes.toString('latin1')).toContain('<v>é&#x20ac;</v>');
    expect(await readAll('xml', bytes, { encoding: 'latin1' })).toEqual([{ v: 'é€' }]);
  });

  it('streams a large input in batches', async () => {
    let total = 0;
    let batches = 0;
    const input = generated(200_000, (i) => `<p id="${i}"><n>x${i}</n></p>`, '<r>', '</r>');
    for await (const batch of bindFormat({ type: 'xml' }).read(input, {
      source: 'big.xml',
      batchSize: 5000,
    })) {
      expect(batch.length).toBeLessThanOrEqual(5000);
      total += batch.length;
      batches++;
    }
    expect(total).toBe(200_000);
    expect(batches).toBe(40);
  });
});

describe('xml scanner', () => {
  it('reads entities, character references, quotes, comments, PIs and CRLF like an XML parser', async () => {
    const doc =
      "<?xml version='1.0'?>\r\n<r>\r\n<!-- c --><p a='x &gt; &#65;&#x42;' b=\"it's > ok\" c=\"t\tn\">" +
      '<?pi x?><v>a&lt;b&amp;&quot;&apos;</v><w>1\r\n2\r3</w><!-- <x> --></p>\r\n</r>';
    expect(await readAll('xml', doc, { attributePrefix: '@' })).toEqual([
      { '@a': 'x > AB', '@b': "it's > ok", '@c': 't n', v: 'a<b&"\'', w: '1\n2\n3' },
    ]);
    // Every chunk boundary, byte by byte.
    expect(await readAll('xml', doc, { attributePrefix: '@' }, 1)).toEqual(
      await readAll('xml', doc, { attributePrefix: '@' }, 4096),
    );
  });

  it('reads names that change from record to record and in a different order', async () => {
    const doc = '<r><p><a>1</a><b>2</b></p><p><b>3</b><c>4</c><a>5</a><ab>6</ab></p><q a="1"/></r>';
    expect(await readAll('xml', doc)).toEqual([
      { a: '1', b: '2' },
      { b: '3', c: '4', a: '5', ab: '6' },
      { a: '1' },
    ]);
  });

  it('keeps fields named like Object.prototype members as plain own fields', async () => {
    const doc =
      '<r><p __proto__="a"><constructor>1</constructor><toString>2</toString><__proto__>3</__proto__></p>' +
      '<p><constructor>4</constructor><constructor>5</constructor></p></r>';
    const rows = await readAll('xml', doc);
    expect(rows[0]).toEqual(JSON.parse('{"__proto__":["a","3"],"constructor":"1","toString":"2"}'));
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
    expect(rows[1]).toEqual({ constructor: ['4', '5'] });
  });

  it('decodes entities and line breaks only where they are, whatever the chunk size', async () => {
    const parts: string[] = [];
    for (let i = 0; i < 40; i++) {
      const v = i % 3 === 0 ? `a &amp; b ${i}` : i % 3 === 1 ? `x\r\ny ${i}` : `plain ${i}`;
      parts.push(`<p><v>${v}</v><w>${i}</w></p>`);
    }
    const doc = `<r>${parts.join('\n')}</r>`;
    const expected = Array.from({ length: 40 }, (_, i) => ({
      v: i % 3 === 0 ? `a & b ${i}` : i % 3 === 1 ? `x\ny ${i}` : `plain ${i}`,
      w: String(i),
    }));
    for (const chunk of [1, 7, 64, 4096]) expect(await readAll('xml', doc, {}, chunk)).toEqual(expected);
  });

  it('refuses malformed documents with line and column', async () => {
    const bad: [string, RegExp][] = [
      ['<r><p></pp></r>', /line 1 column 7: closing tag <\/pp> does not match <p>/],
      ['<r></r><r></r>', /exactly one root/],
      ['x<r></r>', /text outside the root/],
      ['<r><p a="1" a="2"/></r>', /duplicate attribute a/],
      ['<r><p a=1/></r>', /must be quoted/],
      ['<r><p a="<"/></r>', /'<' in the value/],
      ['<r><p>a & b</p></r>', /'&' must start an entity/],
      ['<r><p>&#0;</p></r>', /invalid character reference/],
      ['<r><p>&#x4;</p></r>', /invalid character reference/],
      ['<r><p>&#xD800;</p></r>', /invalid character reference/],
      ['<r>\n<p><![CDATA[x</p></r>', /line 2 column 4: unexpected end of input inside a CDATA/],
      ['', /no root element/],
      ['<r><1a/></r>', /invalid element name/],
    ];
    for (const [doc, message] of bad) {
      const err = await readAll('xml', doc).catch((e: unknown) => e);
      expect(err, doc).toMatchObject({ code: 'FORMAT_ERROR' });
      expect(String(err), doc).toMatch(message);
    }
  });

  it('decodes character references after line ends are normalized, as the XML spec orders it', async () => {
    const doc =
      '<r><p><a>x&#13;y</a><b>1\r\n2\r3</b><c>&#x1F600;&#128512;</c><d v="a&#13;&#10;b\tc"/></p></r>';
    for (const chunk of [1, 3, 4096]) {
      expect(await readAll('xml', doc, {}, chunk)).toEqual([
        { a: 'x\ry', b: '1\n2\n3', c: '\u{1F600}\u{1F600}', d: { v: 'a\r\nb c' } },
      ]);
    }
  });

  it('refuses invalid character references naming the line', async () => {
    const bad = ['&#xFFFE;', '&#1114112;', '&#x110000;', '&#xDFFF;', '&#;', '&#x;', '&#12a;', '&#-1;'];
    for (const ref of bad) {
      const err = await readAll('xml', `<r>\n<p>\n<a>${ref}</a></p></r>`).catch((e: unknown) => e);
      expect(err, ref).toMatchObject({ code: 'FORMAT_ERROR' });
      expect(String(err), ref).toMatch(/test\.xml line 3 column \d+: invalid character reference/);
    }
  });

  it('reads a document whose root is one record as that record', async () => {
    const one =
      '<patient id="7">\n  <patientid>1</patientid>\n  <name>Ada</name>\n  <tag>a</tag><tag>b</tag>\n</patient>';
    for (const chunk of [1, 5, 4096]) {
      expect(await readAll('xml', one, { attributePrefix: '@' }, chunk)).toEqual([
        { '@id': '7', patientid: '1', name: 'Ada', tag: ['a', 'b'] },
      ]);
    }
    // Nested fields after the first plain one stay nested; attributes alone make a record too.
    expect(await readAll('xml', '<p><id>1</id><addr><city>Oslo</city></addr></p>')).toEqual([
      { id: '1', addr: { city: 'Oslo' } },
    ]);
    expect(await readAll('xml', '<p id="1" name="Ann"/>')).toEqual([{ id: '1', name: 'Ann' }]);
    expect(await readAll('xml', '<records/>')).toEqual([]);
    expect(await readAll('xml', '<records>\n</records>')).toEqual([]);
  });

  it('still reads a list of one record as a list', async () => {
    const list = '<patients><patient><patientid>1</patientid><name>Ada</name></patient></patients>';
    expect(await readAll('xml', list)).toEqual([{ patientid: '1', name: 'Ada' }]);
    expect(await readAll('xml', '<ps><p id="1"/><p id="2"/></ps>')).toEqual([{ id: '1' }, { id: '2' }]);
    // A recordPath decides outright: each plain <id> is a record of its own.
    expect(await readAll('xml', '<ids><id>1</id><id>2</id></ids>', { recordPath: 'ids/id' })).toEqual([
      { '#text': '1' },
      { '#text': '2' },
    ]);
  });
});
