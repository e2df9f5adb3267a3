import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/auth/roles.js';
import { type ListenerFixture, listenerFixture, patientFlows } from './fixture.js';

const json = { 'content-type': 'application/json' };

describe('listeners: auth per role, CORS, async intake', () => {
  let f: ListenerFixture;
  const users = new Map<string, { authorization: string; login: string }>();
  beforeAll(async () => {
    f = await listenerFixture({ INTEGRATOR_WORKERS: '1' });
    await patientFlows(f);
    for (const role of ROLES) users.set(role, await f.s.userWithRole(role));
    await f.put('listeners', 'one', {
      path: 'patients/{patientid}',
      methods: ['GET'],
      flow: 'patient-out',
      response: { single: true },
      cors: { origins: ['https://app.example'] },
    });
    await f.put('listeners', 'ops', {
      path: 'ops/{patientid}',
      methods: ['GET'],
      flow: 'patient-out',
      role: 'operator',
    });
    await f.put('listeners', 'basic', {
      path: 'basic/{patientid}',
      methods: ['GET'],
      flow: 'patient-out',
      auth: 'basic',
    });
    await f.put('listeners', 'open', {
      path: 'open/{patientid}',
      methods: ['GET'],
      flow: 'patient-out',
      auth: 'none',
    });
    await f.put('listeners', 'async', { path: 'async/patient', flow: 'patient-in', mode: 'async' });
    await f.target.query("insert into patient values (1, 'Ada', '1984-03-09')");
  });
  afterAll(() => f.close());

  it('lets every role from api up call a default listener, and nobody without a credential', async () => {
    expect((await f.call('patients/1')).status).toBe(401);
    expect((await f.call('patients/1', { headers: { authorization: 'Bearer nonsense' } })).status).toBe(401);
    for (const role of ROLES) {
      expect((await f.call('patients/1', { headers: users.get(role) })).status, role).toBe(200);
    }
  });

  it('enforces a listener role, and api users may call nothing else', async () => {
    for (const role of ROLES) {
      const want = ['api', 'viewer'].includes(role) ? 403 : 200;
      expect((await f.call('ops/1', { headers: users.get(role) })).status, role).toBe(want);
    }
    const api = users.get('api');
    const other = await f.s.app.inject({ url: '/rest/v1/runs', headers: api });
    expect(other.statusCode).toBe(403);
    const defs = await f.s.app.inject({ url: '/rest/v1/listeners', headers: api });
    expect(defs.statusCode).toBe(403);
  });

  it('takes the credential from an Authorization query parameter', async () => {
    const token = users.get('api')?.authorization.replace('Bearer ', '') ?? '';
    expect((await f.call(`patients/1?Authorization=${encodeURIComponent(`Bearer ${token}`)}`)).status).toBe(
      200,
    );
    expect((await f.call(`patients/1?Authorization=${token}`)).status).toBe(200);
    expect((await f.call('patients/1?Authorization=wrong')).status).toBe(401);
  });

  it('supports HTTP Basic and auth none', async () => {
    const basic = `Basic ${Buffer.from(`${users.get('api')?.login}:password-123`).toString('base64')}`;
    expect((await f.call('basic/1', { headers: { authorization: basic } })).status).toBe(200);
    const wrong = `Basic ${Buffer.from('admin:wrong-password').toString('base64')}`;
    expect((await f.call('basic/1', { headers: { authorization: wrong } })).status).toBe(401);
    expect((await f.call('basic/1')).status).toBe(401);
    expect((await f.call('open/1')).status).toBe(200);
  });

  it('throttles repeated wrong Basic passwords like failed logins', async () => {
    const login = users.get('viewer')?.login ?? '';
    const wrong = `Basic ${Buffer.from(`${login}:not-the-password`).toString('base64')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await f.call('basic/1', { headers: { authorization: wrong } })).status);
    // INTEGRATOR_LOGIN_MAX_FAILURES defaults to 5: the sixth attempt is refused before any password check.
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const right = `Basic ${Buffer.from(`${login}:password-123`).toString('base64')}`;
    const locked = await f.call('basic/1', { headers: { authorization: right } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    await f.s.ctx.audit.drain();
    const failed = await f.s.ctx.audit.query({ action: 'login.failed', actor: login });
    expect(failed.length).toBe(5);
  });

  it('tells only callers with a valid credential that no listener is at a path', async () => {
    expect((await f.call('no/such/path')).status).toBe(401);
    expect((await f.call('no/such/path', { headers: { authorization: 'Bearer forged' } })).status).toBe(401);
    const wrongBasic = `Basic ${Buffer.from('ghost:nope-nope').toString('base64')}`;
    expect((await f.call('no/such/path', { headers: { authorization: wrongBasic } })).status).toBe(401);
    const api = users.get('api') ?? { authorization: '' };
    expect((await f.call('no/such/path', { headers: { authorization: api.authorization } })).status).toBe(
      404,
    );
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const ok = await f.call('patients/1', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const bad = await f.call('patients/1', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(bad.status).toBe(403);
    const real = await f.call('patients/1', { headers: { ...f.admin, origin: 'https://app.example' } });
    expect(real.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('refuses a plain call from an origin the listener does not allow, before anything runs', async () => {
    const before = (await f.target.query('select count(*)::int as n from patient')).rows[0].n;
    const get = await f.call('patients/1', { headers: { ...f.admin, origin: 'https://evil.example' } });
    expect(get.status).toBe(403);
    expect(await get.json()).toMatchObject({ error: { message: 'This origin may not call this listener' } });
    const post = await f.call('async/patient', {
      method: 'POST',
      headers: { ...f.admin, origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: 'patientid,name\n900,Mallory',
    });
    expect(post.status).toBe(403);
    expect(await f.s.ctx.runs.list({ flow: 'patient-in' })).toHaveLength(0);
    expect((await f.target.query('select count(*)::int as n from patient')).rows[0].n).toBe(before);
    // No Origin (not a browser) and the listener's own host still work.
    expect((await f.call('patients/1', { headers: f.admin })).status).not.toBe(403);
    const own = new URL(f.url).host;
    expect(
      (await f.call('patients/1', { headers: { ...f.admin, origin: `http://${own}` } })).status,
    ).not.toBe(403);
  });

  it('accepts async payloads with 202 and a receipt, runs them, and honours Idempotency-Key', async () => {
    const res = await f.call('async/patient', {
      method: 'POST',
      headers: { ...f.admin, ...json },
      body: '{"patientid":2,"name":"Bo"}',
    });
    expect(res.status).toBe(202);
    const receipt = (await res.json()) as { messageId: string; runId: string };
    expect(receipt).toMatchObject({
      status: 'received',
      messageId: expect.any(String),
      runId: expect.any(String),
    });
    let run = await f.s.ctx.runs.get(receipt.runId);
    for (let i = 0; i < 100 && run.status !== 'succeeded' && run.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = await f.s.ctx.runs.get(receipt.runId);
    }
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.trigger).toBe('listener');
    const poll = await f.s.app.inject({ url: `/rest/v1/runs/${receipt.runId}`, headers: f.admin });
    expect(poll.json().rowsWritten).toBe(1);

    const send = () =>
      f.call('async/patient', {
        method: 'POST',
        headers: { ...f.admin, ...json, 'idempotency-key': 'order-77' },
        body: '{"patientid":3,"name":"Cy"}',
      });
    const [a, b] = await Promise.all([send(), send()]);
    const c = await send();
    const receipts = (await Promise.all([a.json(), b.json(), c.json()])) as { messageId: string }[];
    expect(new Set(receipts.map((r) => r.messageId)).size).toBe(1);
    // Many calls with one key at once (in one group commit, or racing it): one payload, one run.
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        f.call('async/patient', {
          method: 'POST',
          headers: { ...f.admin, ...json, 'idempotency-key': 'order-78' },
          body: '{"patientid":4,"name":"Di"}',
        }),
      ),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(202));
    const burstIds = new Set(
      ((await Promise.all(burst.map((r) => r.json()))) as { runId: string }[]).map((r) => r.runId),
    );
    expect(burstIds.size).toBe(1);
    const kept = await f.s.ctx.store.db
      .selectFrom('listener_payloads')
      .select('run_id')
      .where('idempotency_key', '=', 'order-78')
      .execute();
    expect(kept.map((r) => r.run_id)).toEqual([...burstIds]);
    // The accepted call and its queued run are one audit event, committed before the 202.
    const [accepted, ...others] = (await f.s.ctx.audit.query({})).filter(
      (e) =>
        e.details?.['runId'] === receipt.runId &&
        e.action !== 'flow.run.started' &&
        e.action !== 'flow.run.finished',
    );
    expect(others).toEqual([]);
    expect(accepted).toMatchObject({
      action: 'listener.called',
      outcome: 'success',
      details: { method: 'POST', status: 202, messageId: receipt.messageId },
    });
    // A repeated key is audited as a call too (with the first call's receipt).
    await f.s.ctx.audit.drain();
    const repeats = (await f.s.ctx.audit.query({ action: 'listener.called' })).filter(
      (e) => e.details?.['runId'] === [...burstIds][0],
    );
    expect(repeats).toHaveLength(10);
    expect(
      (
        await f.call('async/patient', {
          method: 'POST',
          headers: { ...f.admin, ...json },
          body: '{"patientid":',
        })
      ).status,
    ).toBe(400);
  });

  it('gives every step that reads the body the body as sent, in sync and async runs', async () => {
    await f.target.query('create table patient_log (patientid integer, name text)');
    await f.put('flows', 'two-steps', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request' },
          transforms: [{ type: 'defaults', values: { name: 'anon' } }],
          to: { connection: 'pgtarget', table: 'patient' },
        },
        {
          from: { connection: '@request' },
          transforms: [{ type: 'map', select: ['patientid', 'name'] }],
          to: { connection: 'pgtarget', table: 'patient_log' },
        },
      ],
    });
    await f.put('listeners', 'two-sync', { path: 'two/sync', flow: 'two-steps' });
    await f.put('listeners', 'two-async', { path: 'two/async', flow: 'two-steps', mode: 'async' });
    const sync = await f.call('two/sync', {
      method: 'POST',
      headers: { ...f.admin, ...json },
      body: '{"patientid":41,"name":""}',
    });
    expect(sync.status, await sync.clone().text()).toBe(200);
    const accepted = await f.call('two/async', {
      method: 'POST',
      headers: { ...f.admin, ...json },
      body: '{"patientid":42,"name":""}',
    });
    const { runId } = (await accepted.json()) as { runId: string };
    let run = await f.s.ctx.runs.get(runId);
    for (let i = 0; i < 100 && run.status !== 'succeeded' && run.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = await f.s.ctx.runs.get(runId);
    }
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.steps.map((s) => s.rowsWritten)).toEqual([1, 1]);
    const stored = await f.target.query(
      'select patientid, name from patient where patientid in (41, 42) order by 1',
    );
    expect(stored.rows).toEqual([
      { patientid: 41, name: 'anon' },
      { patientid: 42, name: 'anon' },
    ]);
    // The second step read the body as sent, not as the first step's defaults left it.
    const logged = await f.target.query('select patientid, name from patient_log order by 1');
    expect(logged.rows).toEqual([
      { patientid: 41, name: '' },
      { patientid: 42, name: '' },
    ]);
  });

  it('answers 429 when the queue is over the listener limit', async () => {
    // Each run outlasts the calls by far, however loaded the machine, so no slot frees up meanwhile.
    await f.put('flows', 'slow', { type: 'sql', connection: 'pgtarget', sql: 'select pg_sleep(30)' });
    await f.put('listeners', 'slow', { path: 'slow', flow: 'slow', mode: 'async', queueLimit: 2 });
    const send = () => f.call('slow', { method: 'POST', headers: { ...f.admin, ...json }, body: '{}' });
    const codes: number[] = [];
    try {
      for (let i = 0; i < 6; i++) codes.push((await send()).status);
      expect(codes).toContain(202);
      expect(codes).toContain(429);
      // One run at a time (one worker) and two waiting: a fourth payload is refused.
      expect(codes.filter((c) => c === 202).length).toBeLessThanOrEqual(3);
    } finally {
      for (const run of await f.s.ctx.runs.list({ flow: 'slow' })) {
        if (run.status === 'queued' || run.status === 'running') await f.s.ctx.runs.cancel(run.id);
      }
    }
  });

  it('audits every call with its run, never the payload', async () => {
    await f.s.ctx.audit.drain();
    const events = await f.s.ctx.audit.query({ action: 'listener.called' });
    expect(events.length).toBeGreaterThan(10);
    const withRun = events.find((e) => e.target === 'async' && e.details?.['messageId']);
    expect(withRun?.details).toMatchObject({ status: 202, runId: expect.any(String) });
    expect(events.some((e) => e.outcome === 'denied')).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/Bo"/);
  });
});
