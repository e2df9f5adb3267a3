import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListenerFixture, listenerFixture, patientFlows } from './fixture.js';

const json = { 'content-type': 'application/json' };

/** Kept payloads of async listeners: listed without their bodies, replayed as new messages. */
describe('listeners: kept payloads and replay', () => {
  let f: ListenerFixture;
  let viewer: { authorization: string };
  let operator: { authorization: string };

  const waitFor = async (runId: string, status: string) => {
    for (let i = 0; i < 100; i++) {
      const run = await f.s.ctx.runs.get(runId).catch(() => undefined);
      if (run?.status === status) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${runId} never became ${status}`);
  };

  beforeAll(async () => {
    f = await listenerFixture();
    await patientFlows(f);
    await f.put('listeners', 'kept', {
      path: 'kept',
      flow: 'patient-in',
      mode: 'async',
      retainPayloadDays: 3,
    });
    await f.put('listeners', 'gone', { path: 'gone', flow: 'patient-in', mode: 'async' });
    await f.put('flows', 'slow', { type: 'sql', connection: 'pgtarget', sql: 'select pg_sleep(1.5)' });
    await f.put('listeners', 'slow', { path: 'slow', flow: 'slow', mode: 'async', retainPayloadDays: 1 });
    viewer = await f.s.userWithRole('viewer');
    operator = await f.s.userWithRole('operator');
  });
  afterAll(() => f.close());

  it('lists kept payloads and replays one with the parameters of the original call', async () => {
    const res = await f.call('kept?source=lab', {
      method: 'POST',
      headers: { ...f.admin, ...json },
      body: '{"patientid":70,"name":"Rosa"}',
    });
    expect(res.status).toBe(202);
    const receipt = (await res.json()) as { messageId: string; runId: string };
    await waitFor(receipt.runId, 'succeeded');

    const list = await f.s.app.inject({ url: '/rest/v1/listeners/kept/payloads', headers: viewer });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      expect.objectContaining({
        messageId: receipt.messageId,
        runId: receipt.runId,
        format: 'json',
        bytes: 30,
        runStatus: 'succeeded',
      }),
    ]);
    expect(JSON.stringify(list.json())).not.toContain('Rosa');

    await f.target.query("update patient set name = 'changed' where patientid = 70");
    const url = `/rest/v1/listeners/kept/payloads/${receipt.messageId}/replay`;
    expect((await f.s.app.inject({ method: 'POST', url, headers: viewer })).statusCode).toBe(403);
    const replay = await f.s.app.inject({ method: 'POST', url, headers: operator });
    expect(replay.statusCode).toBe(202);
    const again = replay.json<{ messageId: string; runId: string; replayOf: string }>();
    expect(again.replayOf).toBe(receipt.messageId);
    expect(again.messageId).not.toBe(receipt.messageId);
    const run = await waitFor(again.runId, 'succeeded');
    expect(run.params).toEqual({ source: 'lab' });
    expect((await f.target.query('select name from patient where patientid = 70')).rows[0].name).toBe('Rosa');

    await f.s.ctx.audit.drain();
    const events = await f.s.ctx.audit.query({ action: 'listener.replayed' });
    expect(events[0]?.details).toMatchObject({ replayOf: receipt.messageId, runId: again.runId });
  });

  it('answers 409 while the first run of the payload has not finished', async () => {
    const res = await f.call('slow', { method: 'POST', headers: { ...f.admin, ...json }, body: '{"a":1}' });
    const receipt = (await res.json()) as { messageId: string; runId: string };
    const url = `/rest/v1/listeners/slow/payloads/${receipt.messageId}/replay`;
    const early = await f.s.app.inject({ method: 'POST', url, headers: operator });
    expect(early.statusCode).toBe(409);
    await waitFor(receipt.runId, 'succeeded');
    expect((await f.s.app.inject({ method: 'POST', url, headers: operator })).statusCode).toBe(202);
  });

  it('answers 404 for a payload that is not kept and for an unknown listener', async () => {
    const res = await f.call('gone', {
      method: 'POST',
      headers: { ...f.admin, ...json },
      body: '{"patientid":71,"name":"Ines"}',
    });
    const receipt = (await res.json()) as { messageId: string; runId: string };
    await waitFor(receipt.runId, 'succeeded');
    const missing = await f.s.app.inject({
      method: 'POST',
      url: '/rest/v1/listeners/gone/payloads/no-such-message/replay',
      headers: operator,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toMatch(/retainPayloadDays/);
    const unknown = await f.s.app.inject({ url: '/rest/v1/listeners/nope/payloads', headers: viewer });
    expect(unknown.statusCode).toBe(404);
  });
});
