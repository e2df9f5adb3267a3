import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';

const RUN = '/plugins/flows/rest/v1/flows/flow-name';

describe('run flow by name (the demo project)', () => {
  let s: TestServer;
  let op: { authorization: string };
  beforeAll(async () => {
    s = await createTestServer({ env: { INTEGRATOR_DEMO: 'true' } });
    op = await s.userWithRole('operator');
  });
  afterAll(() => s.close());

  it('runs flow_with_parameters with ?roleid=2 and writes the role to a CSV file', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: `${RUN}/flow_with_parameters/run?roleid=2`,
      headers: op,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 0, rowsRead: 1, rowsWritten: 1 });
    expect(readFileSync(join(s.dataDir, 'files', 'output', 'role-2.csv'), 'utf8')).toBe(
      'role,name\n2,editor\n',
    );
  });

  it('runs my-flow with and without a trailing slash, and under /rest/v1', async () => {
    for (const url of [`${RUN}/my-flow/run`, `${RUN}/my-flow/run/`, '/rest/v1/flows/flow-name/my-flow/run']) {
      const res = await s.app.inject({ method: 'POST', url, headers: op });
      expect(res.statusCode, url).toBe(200);
      expect(res.json().status, url).toBe(0);
    }
    expect(readFileSync(join(s.dataDir, 'files', 'output', 'patients.csv'), 'utf8')).toBe(
      'patientid,name,birthdate\n',
    );
  });

  it('answers status 1 with the reason when the flow fails, naming the parameter', async () => {
    const missing = await s.app.inject({
      method: 'POST',
      url: `${RUN}/flow_with_parameters/run`,
      headers: op,
    });
    expect(missing.statusCode).toBe(200);
    expect(missing.json()).toMatchObject({ status: 1 });
    expect(missing.json().exception).toMatch(/parameter 'roleid' is required/);
    const typed = await s.app.inject({
      method: 'POST',
      url: `${RUN}/flow_with_parameters/run?roleid=2%20or%201%3D1`,
      headers: op,
    });
    expect(typed.json().exception).toMatch(/parameter 'roleid' must be an integer/);
    expect(typed.json().exception).not.toMatch(/at .*\.ts/);
  });

  it('answers 404 in the same shape for an unknown flow', async () => {
    const res = await s.app.inject({ method: 'POST', url: `${RUN}/no-such-flow/run`, headers: op });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ status: 1, exception: "Flow 'no-such-flow' does not exist" });
  });

  it('needs the operator role or more', async () => {
    expect((await s.app.inject({ method: 'POST', url: `${RUN}/my-flow/run` })).statusCode).toBe(401);
    const viewer = await s.userWithRole('viewer');
    expect(
      (await s.app.inject({ method: 'POST', url: `${RUN}/my-flow/run`, headers: viewer })).statusCode,
    ).toBe(403);
    const api = await s.userWithRole('api');
    expect((await s.app.inject({ method: 'POST', url: `${RUN}/my-flow/run`, headers: api })).statusCode).toBe(
      403,
    );
  });

  it('queues with ?async=true (202) and the run can be polled to its end', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: `${RUN}/flow_with_parameters/run?roleid=3&async=true`,
      headers: op,
    });
    expect(res.statusCode).toBe(202);
    const { runId, href } = res.json<{ runId: string; href: string }>();
    let run: { status: string; rowsWritten: number; params: Record<string, unknown> } | undefined;
    for (let i = 0; i < 100; i++) {
      run = (await s.app.inject({ url: href, headers: op })).json();
      if (run?.status === 'succeeded' || run?.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(run).toMatchObject({ status: 'succeeded', rowsWritten: 1, params: { roleid: '3' } });
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists runs with filters and shows one run with steps, timings and log lines', async () => {
    const list = await s.app.inject({
      url: '/rest/v1/runs?flow=flow_with_parameters&status=succeeded',
      headers: op,
    });
    const runs = list.json<{ id: string; flow: string; status: string }[]>();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.flow === 'flow_with_parameters' && r.status === 'succeeded')).toBe(true);
    const one = (await s.app.inject({ url: `/rest/v1/runs/${runs[0]?.id}`, headers: op })).json();
    expect(one.steps[0]).toMatchObject({ status: 'succeeded', rowsRead: 1, rowsWritten: 1 });
    expect(one.steps[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(one.log.length).toBeGreaterThan(0);
    expect((await s.app.inject({ url: '/rest/v1/runs/nope', headers: op })).statusCode).toBe(404);
  });

  it('records flow.run.finished, with trigger and parameters, in the audit trail', async () => {
    const admin = await s.login('admin', ADMIN_PASSWORD);
    const finished = (
      await s.app.inject({ url: '/rest/v1/audit?action=flow.run.finished', headers: admin })
    ).json().events;
    expect(finished).toContainEqual(
      expect.objectContaining({
        target: 'flow_with_parameters',
        details: expect.objectContaining({ trigger: 'api', params: { roleid: '2' }, status: 'succeeded' }),
      }),
    );
    expect(
      finished.some(
        (e: { outcome: string; target: string }) =>
          e.outcome === 'failure' && e.target === 'flow_with_parameters',
      ),
    ).toBe(true);
    expect(
      finished.some(
        (e: { outcome: string; details: { rowsWritten: number } }) =>
          e.outcome === 'success' && e.details.rowsWritten === 1,
      ),
    ).toBe(true);
  });
});
