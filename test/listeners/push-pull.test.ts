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

  it("runs the flow's transforms on a pushed body, and a failing one writes nothing", async () => {
    await f.put('flows', 'patient-shaped', {
      type: 'transfer',
      parameters: { minimum: { type: 'integer', default: 100 } },
      steps: [
        {
          from: { connection: '@request' },
          transforms: [
            { type: 'filter', where: 'id >= {minimum}' },
            { type: 'dedupe', keys: ['id'] },
            { type: 'map', rename: { id: 'patientid' }, compute: { name: "upper(who) & '!'" } },
            { type: 'map', select: ['patientid', 'name'] },
          ],
          to: { connection: 'pgtarget', table: 'patient' },
        },
      ],
    });
    await f.put('listeners', 'patient-shaped', { path: 'shaped', flow: 'patient-shaped' });
    const post = (body: unknown, query = '') =>
      f.call(`shaped${query}`, {
        method: 'POST',
        headers: { ...f.admin, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const rows = [
      { id: 101, who: 'ann' },
      { id: 5, who: 'too small' },
      { id: 102, who: 'bo' },
      { id: 101, who: 'again' },
    ];
    const res = await post(rows);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'succeeded', rowsWritten: 2 });
    const { rows: stored } = await f.target.query(
      'select patientid, name from patient where patientid > 100 order by patientid',
    );
    expect(stored).toEqual([
      { patientid: 101, name: 'ANN!' },
      { patientid: 102, name: 'BO!' },
    ]);
    // Run twice more: the compiled transforms are reused, and parameters still bind per call.
    const low = (await (await post([{ id: 7, who: 'low' }], '?minimum=5')).json()) as { rowsWritten: number };
    expect(low.rowsWritten).toBe(1);
    const failed = await post([
      { id: 201, who: 'x' },
      { id: 101, who: 'duplicate key' },
    ]);
    expect(failed.status).toBe(422);
    const { rows: after } = await f.target.query(
      'select count(*)::int as n from patient where patientid in (7, 201)',
    );
    expect(after[0].n).toBe(1);
  });

  it('answers a short list in one piece and streams a long one', async () => {
    await f.put('flows', 'numbers', {
      type: 'transfer',
      parameters: { count: { type: 'integer' } },
      steps: [
        {
          from: { connection: 'pgtarget', query: 'select g as n from generate_series(1, {count}) g' },
          to: { connection: '@response' },
        },
      ],
    });
    await f.put('listeners', 'numbers', { path: 'numbers/{count}', methods: ['GET'], flow: 'numbers' });
    const short = await f.call('numbers/3', { headers: f.admin });
    expect(short.status).toBe(200);
    expect(short.headers.get('content-length')).not.toBeNull();
    expect(await short.json()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const none = await f.call('numbers/0', { headers: f.admin });
    expect(await none.json()).toEqual([]);
    // More rows than one batch: streamed (chunked), all of them, in order.
    const long = await f.call('numbers/4500', { headers: f.admin });
    expect(long.status).toBe(200);
    expect(long.headers.get('transfer-encoding')).toBe('chunked');
    const rows = (await long.json()) as { n: number }[];
    expect(rows).toHaveLength(4500);
    expect(rows[4499]).toEqual({ n: 4500 });
    // As one object: the first row of however many, and 404 for none.
    await f.put('listeners', 'first-number', {
      path: 'numbers/{count}/first',
      methods: ['GET'],
      flow: 'numbers',
      response: { single: true },
    });
    const firstOfMany = await f.call('numbers/100000/first', { headers: f.admin });
    expect(await firstOfMany.json()).toEqual({ n: 1 });
    expect((await f.call('numbers/0/first', { headers: f.admin })).status).toBe(404);
    const csv = await f.call('numbers/2', { headers: { ...f.admin, accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(await csv.text()).toBe('n\n1\n2\n');
  });

  it('answers a push with the transformed rows it was sent (@request to @response)', async () => {
    await f.put('flows', 'shout', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request' },
          transforms: [{ type: 'map', compute: { loud: "upper(word) & '!'" }, exclude: ['word'] }],
          to: { connection: '@response' },
        },
      ],
    });
    await f.put('listeners', 'shout', { path: 'shout', flow: 'shout' });
    await f.put('listeners', 'shout-one', { path: 'shout/one', flow: 'shout', response: { single: true } });
    const send = (path: string, body: string, type: string, accept = 'application/json') =>
      f.call(path, { method: 'POST', headers: { ...f.admin, 'content-type': type, accept }, body });
    const json = await send('shout', JSON.stringify([{ word: 'hi' }, { word: 'yo' }]), 'application/json');
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual([{ loud: 'HI!' }, { loud: 'YO!' }]);
    const csv = await send('shout', 'word\nab\n', 'text/csv', 'text/csv');
    expect(await csv.text()).toBe('loud\nAB!\n');
    const one = await send('shout/one', JSON.stringify({ word: 'solo' }), 'application/json');
    expect(await one.json()).toEqual({ loud: 'SOLO!' });
    const empty = await send('shout', '[]', 'application/json');
    expect(await empty.json()).toEqual([]);
  });

  it('records a sync call and its run as one audit event, committed before the answer', async () => {
    const events = async (runId: string) =>
      (await f.s.ctx.audit.query({})).filter((e) => e.details?.['runId'] === runId);
    const ok = await f.call('hl7/patient', {
      method: 'POST',
      headers: { ...f.admin, 'content-type': 'application/json' },
      body: JSON.stringify([{ patientid: 61, name: 'Eve' }]),
    });
    const { runId } = (await ok.json()) as { runId: string };
    // No drain: the event and the run's record are durable once the caller has its answer.
    expect((await f.s.ctx.runs.store.get(runId))?.status).toBe('succeeded');
    const [event, ...more] = await events(runId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      action: 'listener.called',
      outcome: 'success',
      actor: 'admin',
      target: 'patient-in',
      details: { method: 'POST', path: '/rest/v1/httplistener/hl7/patient', status: 200, rowsWritten: 1 },
    });
    // A failed run: the event has the status the caller got and the run's error.
    const failed = await f.call('hl7/patient', {
      method: 'POST',
      headers: { ...f.admin, 'content-type': 'application/json' },
      body: JSON.stringify([{ patientid: 'not a number' }]),
    });
    expect(failed.status).toBe(422);
    const failure = (await failed.json()) as { error: { runId: string } };
    const [failedEvent] = await events(failure.error.runId);
    expect(failedEvent).toMatchObject({ outcome: 'failure', details: { status: 422, runStatus: 'failed' } });
    expect(String(failedEvent?.details?.['error'])).toMatch(/not a number|invalid/i);
    // A data API call that finds nothing: 404 in the event too.
    const missing = await f.call('patients/999999', { headers: f.admin });
    expect(missing.status).toBe(404);
    const notFound = (await missing.json()) as { error: { runId: string } };
    expect((await events(notFound.error.runId))[0]).toMatchObject({
      outcome: 'failure',
      details: { method: 'GET', status: 404, runStatus: 'succeeded' },
    });
  });
});
