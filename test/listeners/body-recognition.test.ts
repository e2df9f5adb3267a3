import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListenerFixture, listenerFixture, patientFlows } from './fixture.js';

describe('listeners: bodies recognised by content, in the character set they declare', () => {
  let f: ListenerFixture;
  const post = (payload: string | Buffer, headers: Record<string, string> = {}) =>
    f.s.app.inject({
      method: 'POST',
      url: '/plugins/schedules/rest/v1/httplistener/hl7/patient',
      headers: { ...f.admin, ...headers },
      payload,
    });
  const nameOf = async (id: number): Promise<string | undefined> =>
    (await f.target.query('select name from patient where patientid = $1', [id])).rows[0]?.name;

  beforeAll(async () => {
    f = await listenerFixture();
    await patientFlows(f);
    await f.put('listeners', 'in', { path: 'hl7/patient', methods: ['POST'], flow: 'patient-in' });
  });
  afterAll(() => f.close());

  it('takes JSON, XML and CSV sent with the form type curl -d uses, or with no Content-Type', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [Record<string, string>, string, number][] = [
      [form, '{"patientid": 1, "name": "Form JSON"}', 1],
      [form, '<patient><patientid>2</patientid><name>Form XML</name></patient>', 2],
      [form, 'patientid,name\n3,Form CSV\n', 3],
      [{}, '[{"patientid": 4, "name": "Bare JSON"}]', 4],
      [{}, '<patients><patient><patientid>5</patientid><name>Bare XML</name></patient></patients>', 5],
      [{}, 'patientid,name\n6,Bare CSV\n', 6],
    ];
    for (const [headers, body, id] of cases) {
      const res = await post(Buffer.from(body), headers);
      expect(res.statusCode, body).toBe(200);
      expect(res.json(), body).toMatchObject({ status: 'succeeded', rowsWritten: 1 });
      expect(await nameOf(id), body).toBeDefined();
    }
    expect(await nameOf(2)).toBe('Form XML');
  });

  it('reads the body in the charset its Content-Type declares', async () => {
    const latin1 = Buffer.from([...Buffer.from('patientid,name\n10,caf'), 0xe9, 0x0a]);
    const res = await post(latin1, { 'content-type': 'text/csv; charset=iso-8859-1' });
    expect(res.statusCode).toBe(200);
    expect(await nameOf(10)).toBe('café');
    const cp = Buffer.from([...Buffer.from('{"patientid": 11, "name": "'), 0x80, 0x93, 0x22, 0x7d]);
    expect((await post(cp, { 'content-type': 'application/json; Charset="windows-1252"' })).statusCode).toBe(
      200,
    );
    expect(await nameOf(11)).toBe('€“');
    // UTF-16 with a byte-order mark needs no declaration at all.
    const utf16 = Buffer.from('\ufeff<p><patientid>12</patientid><name>Zoë 😀</name></p>', 'utf16le');
    expect((await post(utf16)).statusCode).toBe(200);
    expect(await nameOf(12)).toBe('Zoë 😀');
  });

  it('refuses bytes that are not valid in the declared charset with 400 and the byte offset', async () => {
    const body = Buffer.from([...Buffer.from('{"patientid": 20, "name": "caf'), 0xe9, 0x22, 0x7d]);
    const declared: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { 'content-type': 'text/csv; charset=utf-8' },
      {},
    ];
    for (const headers of declared) {
      const res = await post(body, headers);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'FORMAT_ERROR' });
      expect(res.json().error.message).toContain('request body byte offset 30: not valid UTF-8');
    }
    expect(await nameOf(20)).toBeUndefined();
    const unknown = await post('{"patientid": 21}', { 'content-type': 'application/json; charset=ebcdic' });
    expect(unknown.statusCode).toBe(415);
    expect(unknown.json().error.message).toMatch(/charset ebcdic is not supported/);
  });

  it('reads XML character references as the spec says and a one-record document as that record', async () => {
    const xml = '<patient><patientid>30</patientid><name>a&#13;b&#x1F600;</name><birthdate/></patient>';
    const res = await post(xml, { 'content-type': 'application/xml' });
    expect(res.statusCode).toBe(200);
    expect(await nameOf(30)).toBe('a\rb😀');
    const bad = await post('<patient>\n<patientid>31</patientid>\n<name>&#0;</name></patient>', {
      'content-type': 'text/xml',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(
      /request body line 3 column \d+: invalid character reference &#0;/,
    );
  });
});
