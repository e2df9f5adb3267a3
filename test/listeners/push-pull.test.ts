import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListenerFixture, listenerFixture, patientFlows } from './fixture.js';

describe('listeners: push and pull over HTTP', () => {
  let f: ListenerFixture;
  beforeAll(async () => {
    f = await listenerFixture();
    await patientFlows(f);
    await f.put('listeners', 'patient-in', {
      path: 'hl7/patient',
      methods: ['POST', 'PUT'],
      flow: 'patient-in',
    });
    await f.put('listeners', 'patient-get', {
      path: 'patients/{patientid}',
      methods: ['GET'],
      flow: 'patient-out',
      response: { single: true },
    });
  });
  afterAll(() => f.close());

  it('pushes JSON synchronously and pulls it back', async () => {
    const res = await f.call('hl7/patient', {
      method: 'POST',
      headers: { ...f.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ patientid: 1, name: 'Ada', birthdate: '1984-03-09' }),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'succeeded', rowsWritten: 1 });
    const got = await f.call('patients/1', { headers: f.admin });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ patientid: 1, name: 'Ada', birthdate: '1984-03-09' });
  });
});
