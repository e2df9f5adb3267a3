import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role, roleAtLeast } from '../../src/auth/roles.js';
import { createTestServer, type TestServer } from '../helpers/server.js';

/** Every route the server has, called with no credential and with each role: 401, 403 or through. */
describe('role matrix', () => {
  let s: TestServer;
  const headers = new Map<Role, { authorization: string }>();
  beforeAll(async () => {
    s = await createTestServer();
    for (const role of ROLES) headers.set(role, await s.userWithRole(role));
  });
  afterAll(() => s.close());

  // The event stream stays open while it is allowed; asked for a run that does not exist it answers.
  const concrete = (url: string) =>
    url === '/rest/v1/events'
      ? `${url}?runId=no-such-thing`
      : url.replace(/:[A-Za-z]+/g, 'no-such-thing').replace(/\*$/, 'x');

  it('declares access on every route and enforces it', async () => {
    const routes = s.app.accessTable.filter((r) => !r.url.startsWith('/docs'));
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const url = concrete(route.url);
      const method = route.method as 'GET';
      if (route.access === 'public') continue;
      const anon = await s.app.inject({ method, url });
      expect(anon.statusCode, `${route.method} ${route.url} without token`).toBe(401);
      for (const role of ROLES) {
        const res = await s.app.inject({ method, url, headers: headers.get(role) });
        const label = `${route.method} ${route.url} as ${role} (needs ${route.access})`;
        if (roleAtLeast(role, route.access)) {
          expect([401, 403], label).not.toContain(res.statusCode);
        } else {
          expect(res.statusCode, label).toBe(403);
          expect(res.json().error.code).toBe('FORBIDDEN');
        }
      }
    }
  });

  it('keeps the seed routes at their documented access', () => {
    const access = (method: string, url: string) =>
      s.app.accessTable.find((r) => r.method === method && r.url === url)?.access;
    expect(access('POST', '/rest/v1/token-auth/issue')).toBe('public');
    expect(access('GET', '/plugins/audit/rest/v1/audit')).toBe('admin');
    expect(access('GET', '/rest/v1/audit')).toBe('admin');
    expect(access('GET', '/healthz')).toBe('public');
  });

  it('accepts an API key as a bearer credential until it is revoked', async () => {
    const viewer = headers.get('viewer');
    const created = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: viewer,
      payload: { name: 'ci' },
    });
    expect(created.statusCode).toBe(201);
    const { key, info } = created.json<{ key: string; info: { id: string } }>();
    expect(key).toMatch(/^ik_/);
    const me = await s.app.inject({ url: '/rest/v1/me', headers: { authorization: `Bearer ${key}` } });
    expect(me.json().via).toBe('api-key');
    const list = await s.app.inject({ url: '/rest/v1/api-keys', headers: viewer });
    expect(JSON.stringify(list.json())).not.toContain(key.split('_')[2]);
    const revoked = await s.app.inject({
      method: 'DELETE',
      url: `/rest/v1/api-keys/${info.id}`,
      headers: viewer,
    });
    expect(revoked.statusCode).toBe(204);
    const after = await s.app.inject({ url: '/rest/v1/me', headers: { authorization: `Bearer ${key}` } });
    expect(after.statusCode).toBe(401);
    const wrongSecret = `${key.slice(0, -4)}AAAA`;
    const bad = await s.app.inject({
      url: '/rest/v1/me',
      headers: { authorization: `Bearer ${wrongSecret}` },
    });
    expect(bad.statusCode).toBe(401);
  });

  it('lets only an admin create keys for someone else', async () => {
    const operator = headers.get('operator');
    const res = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: operator,
      payload: { name: 'x', login: 'admin' },
    });
    expect(res.statusCode).toBe(403);
    const admin = headers.get('admin');
    const forApi = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: admin,
      payload: { name: 'partner', login: 'api-user-1' },
    });
    expect(forApi.statusCode).toBe(201);
  });
  /**
   * Operations the route table cannot show, because their route is the editor's but some settings in
   * the body need an admin: each role's answer to each one.
   */
  it('keeps auth none listeners and connections outside the file roots to admins', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'integrator-outside-'));
    const admin = headers.get('admin');
    await s.app.inject({
      method: 'PUT',
      url: '/rest/v1/connections/lite',
      headers: admin,
      payload: { type: 'sqlite', path: 'files/lite.db' },
    });
    await s.app.inject({
      method: 'PUT',
      url: '/rest/v1/flows/noop',
      headers: admin,
      payload: { type: 'sql', connection: 'lite', sql: 'select 1' },
    });
    let n = 0;
    const operations: {
      name: string;
      call: (h: { authorization: string } | undefined) => Promise<number>;
    }[] = [
      {
        name: 'PUT a listener with auth none',
        call: async (h) =>
          (
            await s.app.inject({
              method: 'PUT',
              url: `/rest/v1/listeners/open-${++n}`,
              headers: h,
              payload: { path: `open/${n}`, methods: ['POST'], flow: 'noop', auth: 'none' },
            })
          ).statusCode,
      },
      {
        name: 'apply a listener with auth none',
        call: async (h) =>
          (
            await s.app.inject({
              method: 'POST',
              url: '/rest/v1/apply',
              headers: { ...h, 'content-type': 'application/yaml' },
              payload: `kind: listener\nname: applied-${++n}\npath: applied/${n}\nmethods: [POST]\nflow: noop\nauth: none\n`,
            })
          ).statusCode,
      },
      {
        name: 'PUT a files connection outside the file roots',
        call: async (h) =>
          (
            await s.app.inject({
              method: 'PUT',
              url: `/rest/v1/connections/outside-${++n}`,
              headers: h,
              payload: { type: 'files', root: outside },
            })
          ).statusCode,
      },
      {
        name: 'PUT a SQLite connection outside the file roots',
        call: async (h) =>
          (
            await s.app.inject({
              method: 'PUT',
              url: `/rest/v1/connections/outside-${++n}`,
              headers: h,
              payload: { type: 'sqlite', path: join(outside, 'x.db') },
            })
          ).statusCode,
      },
    ];
    const expected: Record<Role, (op: string) => number> = {
      api: () => 403,
      viewer: () => 403,
      operator: () => 403,
      editor: (op) => (op.includes('auth none') ? 403 : 422),
      admin: (op) => (op.startsWith('apply') ? 200 : 201),
    };
    try {
      for (const op of operations) {
        expect(await op.call(undefined), `${op.name} without token`).toBe(401);
        for (const role of ROLES) {
          expect(await op.call(headers.get(role)), `${op.name} as ${role}`).toBe(expected[role](op.name));
        }
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
