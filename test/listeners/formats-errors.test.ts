import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListenerFixture, listenerFixture, patientFlows } from './fixture.js';

interface ErrorBody {
  error: { code: string; message: string; runId?: string };
}

const json = { 'content-type': 'application/json' };

describe('listeners: formats, parameters and every error status', () => {
  let f: ListenerFixture;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    f.call(path, { method: 'POST', headers: { ...f.admin, ...headers }, body });
  const count = async () => Number((await f.target.query('select count(*) as n from patient')).rows[0].n);

  beforeAll(async () => {
    f = await listenerFixture();
    await patientFlows(f);
    await f.put('listeners', 'in', {
      path: 'hl7/patient',
      methods: ['POST', 'PUT'],
      flow: 'patient-in',
      maxBodySize: 4096,
    });
    await f.put('listeners', 'json-only', { path: 'only/json', flow: 'patient-in', formats: ['json'] });
    await f.put('listeners', 'one', {
      path: 'patients/{patientid}',
      methods: ['GET'],
      flow: 'patient-out',
      response: { single: true },
    });
    await f.put('flows', 'by-name', {
      type: 'transfer',
      parameters: { name: { type: 'string' } },
      steps: [
        {
          from: { connection: 'pgtarget', query: 'select * from patient where name = {name}' },
          to: { connection: '@response' },
        },
      ],
    });
    await f.put('listeners', 'by-name', {
      path: 'patients/by-name/{name}',
      methods: ['GET'],
      flow: 'by-name',
    });
  });
  afterAll(() => f.close());

  it('reads JSON arrays, NDJSON, CSV and XML bodies, by Content-Type or by their first byte', async () => {
    expect(
      (await post('hl7/patient', '[{"patientid":10,"name":"A"},{"patientid":11,"name":"B"}]', json)).status,
    ).toBe(200);
    expect(
      (
        await post('hl7/patient', '{"patientid":12,"name":"C"}\n{"patientid":13,"name":"D"}\n', {
          'content-type': 'application/x-ndjson',
        })
      ).status,
    ).toBe(200);
    const csv = await post('hl7/patient', 'patientid,name,birthdate\n14,E,2000-01-01\n15,F,\n', {
      'content-type': 'text/csv',
    });
    expect(await csv.json()).toMatchObject({ rowsWritten: 2 });
    const xml = '<patients><patient><patientid>16</patientid><name>G</name></patient></patients>';
    expect((await post('hl7/patient', xml, { 'content-type': 'application/xml' })).status).toBe(200);
    expect((await post('hl7/patient', '<p><r><patientid>17</patientid><name>H</name></r></p>')).status).toBe(
      200,
    );
    const put = await f.call('hl7/patient', {
      method: 'PUT',
      headers: { ...f.admin, ...json },
      body: '{"patientid":17,"name":"H2"}',
    });
    expect(put.status).toBe(200);
    const names = (await f.target.query('select name from patient where patientid >= 10 order by patientid'))
      .rows;
    expect(names.map((r) => r.name)).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H2']);
  });

  it('returns many rows as JSON, CSV or XML by Accept, and one object or 404 when single', async () => {
    const many = await f.call('patients/by-name/A', { headers: f.admin });
    expect(await many.json()).toEqual([{ patientid: 10, name: 'A', birthdate: null }]);
    const csv = await f.call('patients/by-name/A', { headers: { ...f.admin, accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(await csv.text()).toMatch(/^patientid,name,birthdate\r?\n10,A,/);
    const xml = await f.call('patients/by-name/A', { headers: { ...f.admin, accept: 'application/xml' } });
    expect(await xml.text()).toMatch(/<patientid>10<\/patientid>/);
    expect((await f.call('patients/10', { headers: f.admin })).status).toBe(200);
    const none = await f.call('patients/999', { headers: f.admin });
    expect(none.status).toBe(404);
  });

  it('binds path and query parameters: injection attempts find nothing and change nothing', async () => {
    const typed = await f.call(`patients/${encodeURIComponent('10 or 1=1')}`, { headers: f.admin });
    expect(typed.status).toBe(400);
    expect(((await typed.json()) as ErrorBody).error.code).toBe('PARAMETER_INVALID');
    const before = await count();
    for (const evil of ["A' or '1'='1", "A'; delete from patient; --", 'A) or (1=1']) {
      const res = await f.call(`patients/by-name/${encodeURIComponent(evil)}`, { headers: f.admin });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    }
    expect(await count()).toBe(before);
    const q = await f.call('patients/by-name/x?name=A', { headers: f.admin });
    expect(await q.json(), 'path parameters win over query parameters').toEqual([]);
  });

  it('reads a body sent without Content-Length (chunked) as it streams, with the same errors', async () => {
    const chunked = (parts: string[]) =>
      f.call('hl7/patient', {
        method: 'POST',
        headers: { ...f.admin, ...json },
        body: new ReadableStream({
          start(c) {
            for (const part of parts) c.enqueue(new TextEncoder().encode(part));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    expect((await chunked(['[{"patientid":60,', '"name":"S"},{"patientid":61,"name":"T"}]'])).status).toBe(
      200,
    );
    expect(
      (await f.target.query('select count(*) as n from patient where patientid in (60, 61)')).rows[0].n,
    ).toBe('2');
    const bad = await chunked(['[{"patientid":62},\n', '{"patientid": }]']);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.message).toMatch(/request body .*line 2/);
  });

  it('runs nothing when the client goes away before its body ends', async () => {
    const runsBefore = (await f.s.ctx.runs.list({ flow: 'patient-in' })).length;
    await f.s.ctx.audit.drain();
    const lastEvent = (await f.s.ctx.audit.query({ limit: 1 }))[0]?.id ?? 0;
    const { hostname, port } = new URL(f.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          [
            'POST /rest/v1/httplistener/hl7/patient HTTP/1.1',
            `Host: ${hostname}`,
            `Authorization: ${f.admin.authorization}`,
            'Content-Type: application/json',
            'Content-Length: 200',
            '',
            '[{"patientid": 90, "name": "half',
          ].join('\r\n'),
        );
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    let audited: { details: Record<string, unknown> | null } | undefined;
    for (let i = 0; i < 40 && !audited; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await f.s.ctx.audit.drain();
      audited = (await f.s.ctx.audit.query({ action: 'listener.called' })).find(
        (e) => e.id > lastEvent && e.details?.['status'] === 400 && e.target === 'in',
      );
    }
    expect(audited).toBeDefined();
    expect((await f.s.ctx.runs.list({ flow: 'patient-in' })).length).toBe(runsBefore);
    expect((await f.target.query('select count(*) as n from patient where patientid = 90')).rows[0].n).toBe(
      '0',
    );
  });

  it('answers 400 with the line for a body that cannot be parsed, and runs nothing', async () => {
    const runsBefore = (await f.s.ctx.runs.list({ flow: 'patient-in' })).length;
    const res = await post('hl7/patient', '[{"patientid":20},\n{"patientid": }]', json);
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('FORMAT_ERROR');
    expect(body.error.message).toMatch(/request body .*line 2/);
    const csv = await post('hl7/patient', 'patientid,name\n21,"open\n', { 'content-type': 'text/csv' });
    expect(csv.status).toBe(400);
    expect((await post('hl7/patient', '', json)).status).toBe(400);
    expect((await f.s.ctx.runs.list({ flow: 'patient-in' })).length).toBe(runsBefore);
  });

  it('refuses XML entity expansion and external entities', async () => {
    const lol =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><p><r><patientid>30</patientid><name>&lol3;</name></r></p>';
    const a = await post('hl7/patient', lol, { 'content-type': 'application/xml' });
    expect(a.status).toBe(400);
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><p><r><patientid>31</patientid><name>&x;</name></r></p>';
    const b = await post('hl7/patient', xxe, { 'content-type': 'text/xml' });
    expect(b.status).toBe(400);
    expect(((await b.json()) as ErrorBody).error.message).toMatch(/DOCTYPE/);
    expect(
      (await f.target.query('select count(*) as n from patient where patientid in (30, 31)')).rows[0].n,
    ).toBe('0');
  });

  it('answers 422 when a record does not fit the target, and leaves no partial rows', async () => {
    const before = await count();
    const res = await post(
      'hl7/patient',
      '[{"patientid":40,"name":"ok"},{"patientid":"not a number","name":"bad"}]',
      json,
    );
    expect(res.status).toBe(422);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('INVALID_VALUE');
    expect(body.error.runId).toMatch(/-/);
    expect(await count()).toBe(before);
  });

  it('answers 404, 405, 413 and 415', async () => {
    const missing = await f.call('no/such/listener', { headers: f.admin });
    expect(missing.status).toBe(404);
    const wrong = await f.call('hl7/patient', { method: 'DELETE', headers: f.admin });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, PUT');
    const big = JSON.stringify(
      Array.from({ length: 200 }, (_, i) => ({ patientid: 1000 + i, name: 'x'.repeat(20) })),
    );
    expect((await post('hl7/patient', big, json)).status).toBe(413);
    const streamed = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const chunked = await f.call('hl7/patient', {
      method: 'POST',
      headers: { ...f.admin, ...json },
      body: streamed,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await post('hl7/patient', 'x', { 'content-type': 'image/png' })).status).toBe(415);
    expect((await post('only/json', 'patientid\n1\n', { 'content-type': 'text/csv' })).status).toBe(415);
    expect((await post('only/json', '{"patientid":50}')).status, 'no content type: the listener format').toBe(
      200,
    );
  });

  it('answers under both prefixes', async () => {
    const res = await f.call('patients/10', {
      headers: f.admin,
      prefix: '/plugins/schedules/rest/v1/httplistener/',
    });
    expect(res.status).toBe(200);
  });
});
