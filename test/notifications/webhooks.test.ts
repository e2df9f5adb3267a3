import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/notifications/webhook-signature.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../runs/helpers.js';

const SECRET = 'receiver-shared-secret-42';
let s: TestServer;
let auth: { authorization: string };
let receiver: Server;
let url: string;
const received: { headers: IncomingHttpHeaders; body: string; at: number }[] = [];
let failFirst = 2;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      res.statusCode = failFirst-- > 0 ? 503 : 204;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  s = await createTestServer();
  auth = await s.login('admin', 'admin-password-1');
  const put = (path: string, payload: Record<string, unknown>) =>
    s.app.inject({ method: 'PUT', url: path, headers: auth, payload });
  await put('/rest/v1/connections/db', { type: 'sqlite', path: 'files/w.db' });
  await put('/rest/v1/flows/fails', { type: 'sql', connection: 'db', sql: 'select * from missing_table' });
  await put('/rest/v1/flows/other', { type: 'sql', connection: 'db', sql: 'select 1' });
  const hook = await put('/rest/v1/webhooks/ops', {
    url,
    secret: SECRET,
    events: ['run.failed'],
    flows: ['fails'],
    headers: { 'x-team': 'ops' },
    retry: { attempts: 4, delay: 0.2 },
  });
  expect(hook.statusCode).toBe(201);
});

afterAll(async () => {
  await s?.close();
  receiver?.close();
});

describe('run notifications', () => {
  it('masks the webhook secret when read', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/rest/v1/webhooks/ops', headers: auth });
    expect(res.json<{ secret: string }>().secret).toBe('********');
  });

  it('shows webhooks (their URLs and headers) to editors only, in the export too', async () => {
    const viewer = await s.userWithRole('viewer');
    const editor = await s.userWithRole('editor');
    const read = await s.app.inject({ url: '/rest/v1/webhooks/ops', headers: viewer });
    expect(read.statusCode).toBe(403);
    const asViewer = await s.app.inject({ url: '/rest/v1/export', headers: viewer });
    expect(asViewer.statusCode).toBe(200);
    expect(asViewer.body).toContain('kind: flow');
    expect(asViewer.body).not.toContain('kind: webhook');
    expect(asViewer.body).not.toContain(url);
    const asEditor = await s.app.inject({ url: '/rest/v1/export', headers: editor });
    expect(asEditor.body).toContain('kind: webhook');
    expect(asEditor.body).toContain(url);
    expect(asEditor.body).not.toContain(SECRET);
  });

  it('posts a signed notification for a failed run, retrying with backoff until it is accepted', async () => {
    await s.app.inject({ method: 'POST', url: '/rest/v1/flows/flow-name/other/run', headers: auth });
    const run = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/flows/flow-name/fails/run',
      headers: auth,
    });
    expect(run.json<{ status: number }>().status).toBe(1);
    await waitFor('three deliveries', async () => (received.length >= 3 ? true : undefined), 10_000);
    expect(received).toHaveLength(3);
    const [first, second, third] = received;
    if (!first || !second || !third) throw new Error('missing deliveries');
    // Backoff: 0.2 s, then 0.4 s.
    expect(second.at - first.at).toBeGreaterThanOrEqual(180);
    expect(third.at - second.at).toBeGreaterThanOrEqual(380);
    for (const d of received) {
      const sig = String(d.headers['x-integrator-signature']);
      expect(verifyWebhook(SECRET, d.body, sig)).toBe(true);
      expect(verifyWebhook('another-secret-of-16+', d.body, sig)).toBe(false);
      expect(verifyWebhook(SECRET, d.body.replace('fails', 'faked'), sig)).toBe(false);
      expect(d.headers['x-integrator-event']).toBe('run.failed');
      expect(d.headers['x-team']).toBe('ops');
    }
    expect(new Set(received.map((d) => d.headers['x-integrator-delivery'])).size).toBe(1);
    const body = JSON.parse(third.body) as {
      event: string;
      run: { flow: string; status: string; error: string };
    };
    expect(body).toMatchObject({ event: 'run.failed', run: { flow: 'fails', status: 'failed' } });
    expect(body.run.error).toMatch(/missing_table/);
    const audit = await waitFor('the delivery audit event', async () => {
      const res = await s.app.inject({ method: 'GET', url: '/rest/v1/audit', headers: auth });
      const events = res.json<{
        events: { action: string; target: string; details: { attempt?: number } }[];
      }>().events;
      return events.find((e) => e.action === 'webhook.delivered');
    });
    expect(audit).toMatchObject({ target: 'ops', details: { attempt: 3 } });
  });
});
