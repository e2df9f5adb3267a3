import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';

const ISSUE = '/rest/v1/token-auth/issue';

describe('token auth', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ env: { INTEGRATOR_LOGIN_MAX_FAILURES: '3' } });
  });
  afterAll(() => s.close());

  it('issues a token for a good login and password', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      payload: { login: 'admin', password: ADMIN_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ token: string; expiresIn: number }>();
    expect(body.token.split('.')).toHaveLength(3);
    expect(body.expiresIn).toBe(600);
    const me = await s.app.inject({ url: '/rest/v1/me', headers: { authorization: `Bearer ${body.token}` } });
    expect(me.json()).toEqual({ login: 'admin', role: 'admin', via: 'token' });
  });

  it('answers 401 with the same message for a wrong password and an unknown user', async () => {
    const wrong = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      payload: { login: 'admin', password: 'nope-nope' },
    });
    const unknown = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      payload: { login: 'ghost', password: 'nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe(unknown.json().error.message);
    expect(wrong.json().error.code).toBe('UNAUTHORIZED');
  });

  it('answers 403 for a disabled user', async () => {
    const u = await s.userWithRole('operator');
    const admin = await s.login('admin', ADMIN_PASSWORD);
    await s.app.inject({
      method: 'PATCH',
      url: `/rest/v1/users/${u.login}`,
      headers: admin,
      payload: { disabled: true },
    });
    const res = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      payload: { login: u.login, password: 'password-123' },
    });
    expect(res.statusCode).toBe(403);
    // The token it already holds stops working too.
    const me = await s.app.inject({ url: '/rest/v1/me', headers: { authorization: u.authorization } });
    expect(me.statusCode).toBe(403);
  });

  it('answers 400 for malformed JSON, an empty body and missing fields, naming the field', async () => {
    const malformed = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      headers: { 'content-type': 'application/json' },
      payload: '{"login":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.message).toMatch(/not valid JSON/);
    const empty = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.statusCode).toBe(400);
    const missing = await s.app.inject({ method: 'POST', url: ISSUE, payload: { login: 'admin' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details[0].path).toBe('body/password');
  });

  it('answers 413 for an oversized body and 400 naming what a form body lacks', async () => {
    const big = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      payload: { login: 'admin', password: 'x'.repeat(20_000) },
    });
    expect(big.statusCode).toBe(413);
    const text = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      headers: { 'content-type': 'text/plain' },
      payload: 'login=admin',
    });
    expect(text.statusCode).toBe(400);
    expect(text.json().error.details[0].path).toBe('body/password');
  });

  it('recognises the body by its content, whatever Content-Type says or when there is none', async () => {
    const json = JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD });
    const bodies: [Record<string, string>, string][] = [
      // what `curl -d '{…}'` sends
      [{ 'content-type': 'application/x-www-form-urlencoded' }, json],
      [{}, json],
      [{ 'content-type': 'text/plain; charset=utf-8' }, `\n  ${json}`],
      [
        { 'content-type': 'application/x-www-form-urlencoded' },
        `login=admin&password=${encodeURIComponent(ADMIN_PASSWORD)}`,
      ],
      [{}, `<credentials><login>admin</login><password>${ADMIN_PASSWORD}</password></credentials>`],
      [{ 'content-type': 'application/xml' }, `<c login="admin" password="${ADMIN_PASSWORD}"/>`],
      [{ 'content-type': 'text/csv' }, `login,password\nadmin,${ADMIN_PASSWORD}\n`],
      [{ 'content-type': 'application/json' }, json],
    ];
    for (const [headers, payload] of bodies) {
      const res = await s.app.inject({ method: 'POST', url: ISSUE, headers, payload });
      expect(res.statusCode, payload).toBe(200);
      expect(res.json().token, payload).toMatch(/^ey/);
    }
    const wrong = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: JSON.stringify({ login: 'admin', password: 'not-the-password' }),
    });
    expect(wrong.statusCode).toBe(401);
    const broken: [string, RegExp][] = [
      ['{"login": "admin", ', /not valid JSON/],
      ['<c><login>admin</c>', /request body line 1 column \d+: closing tag/],
      ['login,password\na,b\nc,d\n', /more than one record/],
    ];
    for (const [payload, message] of broken) {
      const res = await s.app.inject({ method: 'POST', url: ISSUE, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.message, payload).toMatch(message);
    }
  });

  it('refuses a tampered token and a token signed with another key', async () => {
    const { authorization } = await s.login('admin', ADMIN_PASSWORD);
    const [h, p, sig] = authorization.slice(7).split('.');
    const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString());
    payload.login = 'someone-else';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    const res = await s.app.inject({ url: '/rest/v1/me', headers: { authorization: `Bearer ${forged}` } });
    expect(res.statusCode).toBe(401);
    const other = await createTestServer();
    try {
      const foreign = await other.login('admin', ADMIN_PASSWORD);
      const res2 = await s.app.inject({ url: '/rest/v1/me', headers: foreign });
      expect(res2.statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('refuses requests without or with a malformed Authorization header', async () => {
    expect((await s.app.inject({ url: '/rest/v1/me' })).statusCode).toBe(401);
    expect(
      (await s.app.inject({ url: '/rest/v1/me', headers: { authorization: 'Basic abc' } })).statusCode,
    ).toBe(401);
    expect(
      (await s.app.inject({ url: '/rest/v1/me', headers: { authorization: 'Bearer garbage' } })).statusCode,
    ).toBe(401);
  });

  it('throttles repeated failures per login and address with 429 and Retry-After', async () => {
    const u = await s.userWithRole('viewer');
    for (let i = 0; i < 3; i++) {
      const r = await s.app.inject({
        method: 'POST',
        url: ISSUE,
        payload: { login: u.login, password: 'wrong-pass' },
      });
      expect(r.statusCode).toBe(401);
    }
    const locked = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      payload: { login: u.login, password: 'password-123' },
    });
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Another client address is not locked out by these failures.
    const elsewhere = await s.app.inject({
      method: 'POST',
      url: ISSUE,
      remoteAddress: '10.9.9.9',
      payload: { login: u.login, password: 'password-123' },
    });
    expect(elsewhere.statusCode).toBe(200);
  });
});

describe('token expiry', () => {
  it('refuses a token after its TTL', async () => {
    const s = await createTestServer({ env: { INTEGRATOR_TOKEN_TTL: '1' } });
    try {
      const auth = await s.login('admin', ADMIN_PASSWORD);
      expect((await s.app.inject({ url: '/rest/v1/me', headers: auth })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 2100));
      const res = await s.app.inject({ url: '/rest/v1/me', headers: auth });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toMatch(/expired/);
    } finally {
      await s.close();
    }
  });

  it('refuses an altered copy of a token it has already accepted', async () => {
    const s = await createTestServer();
    try {
      const auth = await s.login('admin', ADMIN_PASSWORD);
      expect((await s.app.inject({ url: '/rest/v1/me', headers: auth })).statusCode).toBe(200);
      const token = auth.authorization.replace('Bearer ', '');
      const [header, payload, signature = ''] = token.split('.');
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const elevated = Buffer.from(JSON.stringify({ ...claims, login: 'someone' })).toString('base64url');
      for (const forged of [`${header}.${payload}.${flipped}`, `${header}.${elevated}.${signature}`]) {
        const res = await s.app.inject({
          url: '/rest/v1/me',
          headers: { authorization: `Bearer ${forged}` },
        });
        expect(res.statusCode).toBe(401);
      }
      expect((await s.app.inject({ url: '/rest/v1/me', headers: auth })).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });
});
