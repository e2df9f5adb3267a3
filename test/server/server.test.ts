import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../helpers/server.js';

describe('HTTP server basics', () => {
  let s: TestServer;
  let admin: { authorization: string };
  beforeAll(async () => {
    s = await createTestServer();
    admin = await s.userWithRole('admin');
  });
  afterAll(() => s.close());

  it('answers health, readiness and Prometheus metrics', async () => {
    expect((await s.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await s.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', store: 'sqlite' });
    const metrics = await s.app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toContain('integrator_http_requests_total');
    expect(metrics.body).toContain('integrator_process_cpu_seconds_total');
    await s.app.inject({ url: '/healthz' });
    const again = (await s.app.inject({ url: '/metrics' })).body;
    expect(again).toMatch(
      /integrator_http_requests_total\{method="GET",route="\/healthz",status="200"\} 2\n/,
    );
    expect(again).toMatch(
      /integrator_http_request_duration_seconds_count\{method="GET",route="\/healthz"\} 2\n/,
    );
  });

  it('gives every response a request id, and keeps a sane one the client sent', async () => {
    const mine = await s.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(mine.headers['x-request-id']).toBe('abc-123');
    const odd = await s.app.inject({ url: '/healthz', headers: { 'x-request-id': 'no spaces allowed' } });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const err = await s.app.inject({ url: '/no/such/route' });
    expect(err.statusCode).toBe(404);
    expect(err.json().error).toMatchObject({ code: 'NOT_FOUND', requestId: err.headers['x-request-id'] });
  });

  it('describes every route in the OpenAPI document, the seed routes included', async () => {
    const doc = (await s.app.inject({ url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    const hidden = new Set(['/metrics', '/openapi.json']);
    for (const r of s.app.accessTable) {
      if (r.url.startsWith('/docs') || hidden.has(r.url) || r.url.endsWith('*')) continue;
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(
        doc.paths[path]?.[r.method.toLowerCase()],
        `${r.method} ${path} in the OpenAPI document`,
      ).toBeDefined();
    }
    for (const seed of [
      '/rest/v1/token-auth/issue',
      '/plugins/flows/rest/v1/flows/flow-name/{flowName}/run',
      '/plugins/audit/rest/v1/audit',
    ]) {
      expect(Object.keys(doc.paths)).toContain(seed);
    }
    // What a definition save or delete can answer besides success: a definition that does not fit
    // (unknown references, cycles) is 422, deleting one still referenced 409.
    const codes = (path: string, method: string) =>
      Object.keys((doc.paths[path]?.[method] as { responses?: object } | undefined)?.responses ?? {});
    expect(codes('/rest/v1/flows/{name}', 'put')).toEqual(
      expect.arrayContaining(['200', '201', '409', '422']),
    );
    expect(codes('/rest/v1/flows', 'post')).toContain('422');
    expect(codes('/rest/v1/connections/{name}', 'delete')).toContain('409');
    expect(codes('/rest/v1/apply', 'post')).toContain('422');
    expect((await s.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('rejects malformed and oversized bodies on every route that takes one, and writes nothing', async () => {
    const before = await s.ctx.audit.query({ limit: 1 });
    const routes = s.app.accessTable.filter(
      (r) =>
        ['POST', 'PUT', 'PATCH'].includes(r.method) &&
        !r.url.includes('httplistener') &&
        !r.url.endsWith('/run') &&
        !r.url.endsWith('/cancel') &&
        !r.url.endsWith('/test'),
    );
    expect(routes.length).toBeGreaterThan(8);
    const big = JSON.stringify({ name: 'x', padding: 'x'.repeat(9 * 1024 * 1024) });
    for (const r of routes) {
      const url = r.url.replace(/:[A-Za-z]+/g, 'body-test');
      const method = r.method as 'POST';
      const malformed = await s.app.inject({
        method,
        url,
        headers: { ...admin, 'content-type': 'application/json' },
        payload: '{"name": ',
      });
      expect(malformed.statusCode, `${r.method} ${r.url} malformed`).toBe(400);
      expect(malformed.json().error.message, `${r.method} ${r.url}`).toMatch(/JSON/);
      const oversized = await s.app.inject({
        method,
        url,
        headers: { ...admin, 'content-type': 'application/json' },
        payload: big,
      });
      expect(oversized.statusCode, `${r.method} ${r.url} oversized`).toBe(413);
    }
    const after = await s.ctx.audit.query({ limit: 1 });
    // Rejected requests change nothing, so they leave no audit event either.
    expect(after[0]?.id).toBe(before[0]?.id);
  });
});
