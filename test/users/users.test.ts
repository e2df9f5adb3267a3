import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`users on ${store}`, () => {
    let s: TestServer;
    let admin: { authorization: string };
    beforeAll(async () => {
      s = await createTestServer({ store });
      admin = await s.login('admin', ADMIN_PASSWORD);
    });
    afterAll(() => s.close());

    it('takes body values at their JSON type: a number is not a password, a string not a flag', async () => {
      for (const [url, method, payload, field] of [
        ['/rest/v1/users', 'POST', { login: 'num', password: 1234567890, role: 'viewer' }, '/password'],
        ['/rest/v1/users', 'POST', { login: 12345, password: 'long-enough-1', role: 'viewer' }, '/login'],
        ['/rest/v1/users/admin', 'PATCH', { disabled: 'false' }, '/disabled'],
      ] as const) {
        const res = await s.app.inject({ method, url, headers: admin, payload });
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(400);
        expect(res.json().error.code).toBe('VALIDATION_FAILED');
        expect(res.json().error.message).toContain(field);
      }
      const list = await s.app.inject({ url: '/rest/v1/users', headers: admin });
      expect(list.json<{ login: string }[]>().map((u) => u.login)).toEqual(['admin']);
    });

    it('creates, lists, gets, updates, resets and deletes users', async () => {
      const created = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/users',
        headers: admin,
        payload: { login: 'dave', password: 'dave-password', role: 'editor' },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ login: 'dave', role: 'editor', disabled: false });
      expect(created.body).not.toContain('password');

      const list = await s.app.inject({ url: '/rest/v1/users', headers: admin });
      expect(list.json<{ login: string }[]>().map((u) => u.login)).toEqual(['admin', 'dave']);

      const patched = await s.app.inject({
        method: 'PATCH',
        url: '/rest/v1/users/dave',
        headers: admin,
        payload: { role: 'viewer', disabled: true },
      });
      expect(patched.json()).toMatchObject({ role: 'viewer', disabled: true });
      await s.app.inject({
        method: 'PATCH',
        url: '/rest/v1/users/dave',
        headers: admin,
        payload: { disabled: false },
      });

      const reset = await s.app.inject({
        method: 'PUT',
        url: '/rest/v1/users/dave/password',
        headers: admin,
        payload: { password: 'new-dave-password' },
      });
      expect(reset.statusCode).toBe(204);
      const dave = await s.login('dave', 'new-dave-password');
      expect((await s.app.inject({ url: '/rest/v1/me', headers: dave })).json().role).toBe('viewer');

      expect(
        (await s.app.inject({ method: 'DELETE', url: '/rest/v1/users/dave', headers: admin })).statusCode,
      ).toBe(204);
      expect((await s.app.inject({ url: '/rest/v1/users/dave', headers: admin })).statusCode).toBe(404);
      // A deleted user's token stops working.
      expect((await s.app.inject({ url: '/rest/v1/me', headers: dave })).statusCode).toBe(401);
    });

    it('rejects bad input with a field path and writes nothing', async () => {
      const cases: [unknown, string][] = [
        [{ login: 'x y', password: 'long-enough', role: 'viewer' }, '/login'],
        [{ login: 'eve', password: 'short', role: 'viewer' }, 'body/password'],
        [{ login: 'eve', password: 'long-enough', role: 'root' }, 'body/role'],
        [{ login: 'eve', password: 'long-enough' }, 'body/role'],
        [{ login: 'eve', password: 'long-enough', role: 'viewer', extra: 1 }, 'body/extra'],
      ];
      for (const [payload, path] of cases) {
        const res = await s.app.inject({
          method: 'POST',
          url: '/rest/v1/users',
          headers: admin,
          payload: payload as object,
        });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json().error.details[0].path).toBe(path);
      }
      const huge = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/users',
        headers: admin,
        payload: { login: 'eve', password: 'p'.repeat(2 * 1024 * 1024), role: 'viewer' },
      });
      expect(huge.statusCode).toBe(413);
      const list = await s.app.inject({ url: '/rest/v1/users', headers: admin });
      expect(list.json<{ login: string }[]>().map((u) => u.login)).not.toContain('eve');
    });

    it('never removes, disables or demotes the last enabled admin', async () => {
      for (const [method, url, payload] of [
        ['DELETE', '/rest/v1/users/admin', undefined],
        ['PATCH', '/rest/v1/users/admin', { disabled: true }],
        ['PATCH', '/rest/v1/users/admin', { role: 'editor' }],
      ] as const) {
        const res = await s.app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${JSON.stringify(payload)}`).toBe(409);
      }
    });
  });
}
