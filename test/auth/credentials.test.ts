/**
 * Credential changes reach every process of a cluster within a second. Two servers share one
 * PostgreSQL store and secret; every change is made through server A and observed through server B,
 * whose caches were warmed first.
 */
import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

const LOGIN = 'feed';
let store: Awaited<ReturnType<typeof createPgDatabase>>;
let a: TestServer;
let b: TestServer;
let adminA: { authorization: string };

const basic = (password: string) => ({
  authorization: `Basic ${Buffer.from(`${LOGIN}:${password}`).toString('base64')}`,
});

/** Status of a REST call and of a call to the operator-only Basic listener, both on server B. */
async function onB(headers: { authorization: string }): Promise<{ me: number; listener: number }> {
  const me = await b.app.inject({ url: '/rest/v1/me', headers });
  const listener = await b.app.inject({ url: '/rest/v1/httplistener/ping', headers });
  return { me: me.statusCode, listener: listener.statusCode };
}

/** Milliseconds until `probe` on B gives `expected` (fails after 3 s). */
async function msUntil<T>(probe: () => Promise<T>, expected: T): Promise<number> {
  const started = Date.now();
  for (;;) {
    const got = await probe();
    if (JSON.stringify(got) === JSON.stringify(expected)) return Date.now() - started;
    if (Date.now() - started > 3000) throw new Error(`still ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function onA(method: 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object): Promise<void> {
  const res = await a.app.inject({ method, url, headers: adminA, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

beforeAll(async () => {
  store = await createPgDatabase('creds');
  const env = {
    INTEGRATOR_DATABASE_URL: store.url,
    INTEGRATOR_SECRET: 'credentials-test-secret-0123456789abcdef',
  };
  a = await createTestServer({ env });
  b = await createTestServer({ env });
  adminA = await a.login('admin', ADMIN_PASSWORD);
  await onA('PUT', '/rest/v1/connections/db', { type: 'sqlite', path: 'files/ping.db' });
  await onA('PUT', '/rest/v1/flows/ping', {
    type: 'transfer',
    steps: [{ from: { connection: 'db', query: 'select 1 as one' }, to: { connection: '@response' } }],
  });
  await onA('PUT', '/rest/v1/listeners/ping', {
    path: 'ping',
    methods: ['GET'],
    flow: 'ping',
    auth: 'basic',
    role: 'operator',
  });
  const created = await a.app.inject({
    method: 'POST',
    url: '/rest/v1/users',
    headers: adminA,
    payload: { login: LOGIN, password: 'first-password', role: 'operator' },
  });
  expect(created.statusCode).toBe(201);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await store?.drop();
});

describe('credential changes take effect at once on every process', () => {
  it('a demoted, disabled and re-enabled user: token, API key and Basic follow within a second', async () => {
    const token = await a.login(LOGIN, 'first-password');
    const key = await a.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: token,
      payload: { name: 'feed key' },
    });
    const apiKey = { authorization: `Bearer ${key.json<{ key: string }>().key}` };
    // The REST API takes bearer credentials only, so Basic answers 401 there and counts on the listener.
    for (const h of [token, apiKey]) expect(await onB(h)).toEqual({ me: 200, listener: 200 });
    expect(await onB(basic('first-password'))).toEqual({ me: 401, listener: 200 });

    await onA('PATCH', `/rest/v1/users/${LOGIN}`, { role: 'viewer' });
    expect(await msUntil(() => onB(basic('first-password')), { me: 401, listener: 403 })).toBeLessThan(1000);
    expect(await onB(token)).toEqual({ me: 200, listener: 403 });
    expect(await onB(apiKey)).toEqual({ me: 200, listener: 403 });

    await onA('PATCH', `/rest/v1/users/${LOGIN}`, { role: 'operator', disabled: true });
    expect(await msUntil(() => onB(token), { me: 403, listener: 403 })).toBeLessThan(1000);
    expect(await onB(apiKey)).toEqual({ me: 403, listener: 403 });
    expect(await onB(basic('first-password'))).toEqual({ me: 401, listener: 403 });

    await onA('PATCH', `/rest/v1/users/${LOGIN}`, { disabled: false });
    expect(await msUntil(() => onB(apiKey), { me: 200, listener: 200 })).toBeLessThan(1000);
  });

  it('a new password ends old tokens and the old Basic password at once; API keys stay until revoked', async () => {
    const token = await a.login(LOGIN, 'first-password');
    const key = await a.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: token,
      payload: { name: 'second key' },
    });
    const { key: secret, info } = key.json<{ key: string; info: { id: string } }>();
    const apiKey = { authorization: `Bearer ${secret}` };
    expect(await onB(token)).toEqual({ me: 200, listener: 200 });
    expect(await onB(basic('first-password'))).toEqual({ me: 401, listener: 200 });

    await onA('PUT', `/rest/v1/users/${LOGIN}/password`, { password: 'second-password' });
    expect(await msUntil(() => onB(token), { me: 401, listener: 401 })).toBeLessThan(1000);
    const refused = await b.app.inject({ url: '/rest/v1/me', headers: token });
    expect(refused.json().error.message).toMatch(/password of this user has changed/);
    expect((await onB(basic('first-password'))).listener).toBe(401);
    expect((await onB(basic('second-password'))).listener).toBe(200);
    expect(await onB(apiKey)).toEqual({ me: 200, listener: 200 });
    expect(await onB(await b.login(LOGIN, 'second-password'))).toEqual({ me: 200, listener: 200 });

    await onA('DELETE', `/rest/v1/api-keys/${info.id}`);
    expect(await onB(apiKey)).toEqual({ me: 401, listener: 401 });
  });

  it('a deleted user: every credential is refused within a second', async () => {
    const token = await a.login(LOGIN, 'second-password');
    const key = await a.app.inject({
      method: 'POST',
      url: '/rest/v1/api-keys',
      headers: token,
      payload: { name: 'third key' },
    });
    const apiKey = { authorization: `Bearer ${key.json<{ key: string }>().key}` };
    for (const h of [token, apiKey, basic('second-password')]) expect((await onB(h)).listener).toBe(200);

    await onA('DELETE', `/rest/v1/users/${LOGIN}`);
    expect(await msUntil(() => onB(basic('second-password')), { me: 401, listener: 401 })).toBeLessThan(1000);
    expect(await onB(token)).toEqual({ me: 401, listener: 401 });
    expect(await onB(apiKey)).toEqual({ me: 401, listener: 401 });
  });

  it('refuses a correctly signed token without exp', async () => {
    const key = createSecretKey(b.ctx.secret.derive('jwt-hs256'));
    const admin = await b.ctx.users.findByLogin('admin');
    const signed = (withExp: boolean) => {
      const jwt = new SignJWT({ login: 'admin', pv: '' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('integrator')
        .setSubject(admin?.id ?? '')
        .setIssuedAt();
      return (withExp ? jwt.setExpirationTime('5m') : jwt).sign(key);
    };
    const res = await b.app.inject({
      url: '/rest/v1/me',
      headers: { authorization: `Bearer ${await signed(false)}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe('Token has no expiry');
    // The same token with exp is well formed; it fails only on its password version.
    const withExp = await b.app.inject({
      url: '/rest/v1/me',
      headers: { authorization: `Bearer ${await signed(true)}` },
    });
    expect(withExp.json().error.message).toMatch(/password of this user has changed/);
  });
});
