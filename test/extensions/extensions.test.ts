/**
 * Adding a format, a transform and a listener auth strategy is one file each, registered when the
 * server is built: the fixtures in test/fixtures/extensions are saved in definitions through the real
 * API, validated by schemas derived from the registries, and data goes through them on a real server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExtensions } from '../../src/extensions.js';
import { ipAllowAuth } from '../fixtures/extensions/ip-allow-auth.js';
import { kvFormat } from '../fixtures/extensions/kv-format.js';
import { uppercaseTransform } from '../fixtures/extensions/uppercase-transform.js';
import { createTestServer, type TestServer } from '../helpers/server.js';

const extras = { formats: [kvFormat], transforms: [uppercaseTransform], listenerAuth: [ipAllowAuth] };

describe('extension points: a new format, transform and listener auth in one file each', () => {
  let s: TestServer;
  let plain: TestServer;
  let admin: { authorization: string };
  const put = async (server: TestServer, kind: string, name: string, spec: object) =>
    server.app.inject({
      method: 'PUT',
      url: `/rest/v1/${kind}/${name}`,
      headers: server === s ? admin : await server.login('admin', 'admin-password-1'),
      payload: spec,
    });

  beforeAll(async () => {
    s = await createTestServer({ extensions: createExtensions(extras) });
    plain = await createTestServer();
    admin = await s.login('admin', 'admin-password-1');
    for (const [name, spec] of [
      ['db', { type: 'sqlite', path: 'files/people.db' }],
      ['out', { type: 'files', root: 'files/exports' }],
    ] as const) {
      const res = await put(s, 'connections', name, spec);
      expect(res.statusCode, res.body).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await s?.close();
    await plain?.close();
  });

  it('accepts them in flows and listeners, and the data goes through them', async () => {
    const flowIn = {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request' },
          transforms: [{ type: 'uppercase', columns: ['name'] }],
          to: { connection: 'db', table: 'people' },
        },
      ],
    };
    let res = await put(s, 'flows', 'people-in', flowIn);
    expect(res.statusCode, res.body).toBeLessThan(300);
    res = await put(s, 'listeners', 'people-in', {
      path: 'people',
      flow: 'people-in',
      auth: 'ip-allow',
      authOptions: { allow: ['127.0.0.1'] },
      formats: ['kv', 'json'],
    });
    expect(res.statusCode, res.body).toBeLessThan(300);

    const body = 'id=1\nname=ada lovelace\n\nid=2\nname=grace hopper\n';
    res = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/httplistener/people',
      headers: { 'content-type': 'text/x-kv' },
      remoteAddress: '127.0.0.1',
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'succeeded', rowsRead: 2, rowsWritten: 2 });

    // Anyone else is refused by the strategy, before any run.
    res = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/httplistener/people',
      headers: { 'content-type': 'text/x-kv' },
      remoteAddress: '10.9.8.7',
      payload: 'id=3\nname=eve\n',
    });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.body).toContain('10.9.8.7');

    // Pull the rows back in the new format: negotiated from Accept, written by its writer.
    res = await put(s, 'flows', 'people-out', {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'db', query: 'select id, name from people order by id' },
          to: { connection: '@response' },
        },
      ],
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    res = await put(s, 'listeners', 'people-out', {
      path: 'people-list',
      methods: ['GET'],
      flow: 'people-out',
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    res = await s.app.inject({
      method: 'GET',
      url: '/rest/v1/httplistener/people-list',
      headers: { ...admin, accept: 'text/x-kv, application/json;q=0.5' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/x-kv/);
    expect(res.body).toBe('id=1\nname=ADA LOVELACE\n\nid=2\nname=GRACE HOPPER\n');

    // A files connection picks the new format by the file's extension.
    res = await put(s, 'flows', 'people-export', {
      type: 'transfer',
      steps: [{ from: { connection: 'db', table: 'people' }, to: { connection: 'out', file: 'people.kv' } }],
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    res = await s.app.inject({
      method: 'POST',
      url: '/rest/v1/flows/flow-name/people-export/run',
      headers: admin,
    });
    expect(res.json(), res.body).toMatchObject({ status: 0, rowsWritten: 2 });
    expect(readFileSync(join(s.dataDir, 'files', 'exports', 'people.kv'), 'utf8')).toBe(
      'id=1\nname=ADA LOVELACE\n\nid=2\nname=GRACE HOPPER\n',
    );
  });

  it('checks their settings against their own schemas, with paths', async () => {
    let res = await put(s, 'flows', 'bad-transform', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request' },
          transforms: [{ type: 'uppercase', columns: [] }],
          to: { connection: 'db', table: 'people' },
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.body).toContain('/steps/0/transforms/0');
    res = await put(s, 'flows', 'bad-options', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request', format: { type: 'kv' } },
          to: { connection: 'out', file: 'x.kv', format: { type: 'kv', options: { separator: '' } } },
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.body).toMatch(/steps\[0\]\.to\.format: kv options: \/separator/);
    res = await put(s, 'listeners', 'bad-auth', {
      path: 'bad-auth',
      flow: 'people-in',
      auth: 'ip-allow',
      authOptions: { allow: [] },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.body).toContain('authOptions');
  });

  it('derives the OpenAPI document from the registries, and a server without them refuses them', async () => {
    const doc = JSON.stringify((await s.app.inject({ method: 'GET', url: '/openapi.json' })).json());
    for (const name of ['"kv"', '"uppercase"', '"ip-allow"']) expect(doc).toContain(name);
    const plainDoc = JSON.stringify((await plain.app.inject({ method: 'GET', url: '/openapi.json' })).json());
    for (const name of ['"kv"', '"uppercase"', '"ip-allow"']) expect(plainDoc).not.toContain(name);

    let res = await put(plain, 'flows', 'people-in', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request', format: { type: 'kv' } },
          to: { connection: '@response' },
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(400);
    res = await put(plain, 'flows', 'people-in', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@request' },
          transforms: [{ type: 'uppercase', columns: ['name'] }],
          to: { connection: '@response' },
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(400);
    res = await put(plain, 'listeners', 'people-in', { path: 'people', flow: 'x', auth: 'ip-allow' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.body).toContain('/auth');
  });

  it('refuses a name registered twice when the server is built', () => {
    expect(() => createExtensions({ formats: [kvFormat, kvFormat] })).toThrow(
      /format 'kv' is registered twice/,
    );
    expect(() => createExtensions({ transforms: [{ ...uppercaseTransform, type: 'map' }] })).toThrow(/'map'/);
  });
});
