/**
 * POST /rest/v1/token-auth/renew: a token that has not expired buys a fresh one for the same user, so
 * the console keeps its session without the password; an expired token, an API key or a changed
 * password do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';

const RENEW = '/rest/v1/token-auth/renew';

describe('token renewal', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ env: { INTEGRATOR_TOKEN_TTL: '3' } });
  });
  afterAll(() => s.close());

  it('renews a live token for the same user and role, past the first one’s expiry', async () => {
    const viewer = await s.userWithRole('viewer');
    const res = await s.app.inject({
      method: 'POST',
      url: RENEW,
      headers: { authorization: viewer.authorization },
    });
    expect(res.statusCode).toBe(200);
    const renewed = res.json<{ token: string; expiresIn: number }>();
    expect(renewed.expiresIn).toBe(3);
    expect(`Bearer ${renewed.token}`).not.toBe(viewer.authorization);
    // Expiry counts whole seconds: a 3-second token lives at least 2 seconds.
    await new Promise((r) => setTimeout(r, 1500));
    // Renewed again before it expires, the session outlives every single token.
    const again = await s.app.inject({
      method: 'POST',
      url: RENEW,
      headers: { authorization: `Bearer ${renewed.token}` },
    });
    expect(again.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await s.app.inject({
      url: '/rest/v1/me',
      headers: { authorization: viewer.authorization },
    });
    expect(expired.statusCode).toBe(401);
    const me = await s.app.inject({
      url: '/rest/v1/me',
      headers: { authorization: `Bearer ${again.json<{ token: string }>().token}` },
    });
    expect(me.json()).toEqual({ login: viewer.login, role: 'viewer', via: 'token' });
    const audit = await s.ctx.audit.query({ action: 'token.renewed', actor: viewer.login });
    expect(audit).toHaveLength(2);
  });

  it('refuses an expired token, and no token at all', async () => {
    const auth = await s.login('admin', ADMIN_PASSWORD);
    await new Promise((r) => setTimeout(r, 3100));
    const res = await s.app.inject({ method: 'POST', url: RENEW, headers: auth });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toMatch(/expired/);
    expect((await s.app.inject({ method: 'POST', url: RENEW })).statusCode).toBe(401);
  });

  it('refuses an API key, which does not expire', async () => {
    const auth = await s.login('admin', ADMIN_PASSWORD);
    const created = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: auth,
      payload: { name: 'renew' },
    });
    const { key } = created.json<{ key: string }>();
    const res = await s.app.inject({
      method: 'POST',
      url: RENEW,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/API key/);
  });

  it('does not renew a token issued under a password since changed', async () => {
    const user = await s.userWithRole('operator');
    const admin = await s.login('admin', ADMIN_PASSWORD);
    const changed = await s.app.inject({
      method: 'PUT',
      url: `/rest/v1/users/${user.login}/password`,
      headers: admin,
      payload: { password: 'a-new-password-2' },
    });
    expect(changed.statusCode).toBeLessThan(300);
    const res = await s.app.inject({
      method: 'POST',
      url: RENEW,
      headers: { authorization: user.authorization },
    });
    expect(res.statusCode).toBe(401);
  });
});
