/**
 * Every saved version of a definition is kept: listed, shown, compared and restored (audited), on the
 * SQLite and the PostgreSQL metadata stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specChanges } from '../../src/definitions/spec-diff.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';

describe.each(['sqlite', 'postgres'] as const)('definition versions (%s store)', (store) => {
  let s: TestServer;
  let admin: { authorization: string };
  let viewer: { authorization: string };
  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, headers = admin, payload?: object) =>
    s.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    s = await createTestServer({ store });
    admin = await s.login('admin', ADMIN_PASSWORD);
    viewer = await s.userWithRole('viewer');
  }, 60_000);
  afterAll(() => s?.close());

  it('keeps every saved version, compares any two and restores one as the newest, audited', async () => {
    const conn = { type: 'sqlite', path: 'files/versions.db' };
    expect((await call('PUT', '/rest/v1/connections/vdb', admin, conn)).statusCode).toBe(201);
    const v1 = { type: 'sql', connection: 'vdb', sql: 'select 1', description: 'first' };
    const v2 = { type: 'sql', connection: 'vdb', sql: 'select 2', timeout: 30 };
    expect((await call('PUT', '/rest/v1/flows/vflow', admin, v1)).statusCode).toBe(201);
    expect((await call('PUT', '/rest/v1/flows/vflow', admin, v2)).json()).toMatchObject({ version: 2 });

    const list = await call('GET', '/rest/v1/flows/vflow/versions', viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json().map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(list.json()[0]).toMatchObject({ savedBy: 'admin' });

    const first = await call('GET', '/rest/v1/flows/vflow/versions/1', viewer);
    expect(first.json()).toMatchObject({ version: 1, spec: { sql: 'select 1', description: 'first' } });

    const diff = await call('GET', '/rest/v1/flows/vflow/diff?from=1&to=2', viewer);
    expect(diff.json()).toEqual({
      from: 1,
      to: 2,
      changes: [
        { op: 'remove', path: '/description', from: 'first' },
        { op: 'replace', path: '/sql', from: 'select 1', to: 'select 2' },
        { op: 'add', path: '/timeout', to: 30 },
      ],
    });

    // A viewer may look, not restore.
    expect((await call('POST', '/rest/v1/flows/vflow/versions/1/revert', viewer)).statusCode).toBe(403);
    const reverted = await call('POST', '/rest/v1/flows/vflow/versions/1/revert');
    expect(reverted.statusCode).toBe(200);
    expect(reverted.json()).toMatchObject({ version: 3, sql: 'select 1', description: 'first' });
    expect((await call('GET', '/rest/v1/flows/vflow')).json()).toMatchObject({ version: 3, sql: 'select 1' });
    expect((await call('GET', '/rest/v1/flows/vflow/diff?from=1&to=3')).json().changes).toEqual([]);

    const audit = await call('GET', '/rest/v1/audit?action=flow.reverted');
    const events = (audit.json() as { events: { action: string; target: string; details: unknown }[] })
      .events;
    expect(events.find((e) => e.action === 'flow.reverted' && e.target === 'vflow')).toMatchObject({
      details: { from: 1, version: 3 },
    });

    expect((await call('GET', '/rest/v1/flows/vflow/versions/9')).statusCode).toBe(404);
    expect((await call('GET', '/rest/v1/flows/none/versions')).statusCode).toBe(404);
  });

  it('masks secrets in versions and diffs, and restores them with the version', async () => {
    const url = (password: string) => `postgres://someone:${password}@127.0.0.1:1/none`;
    await call('PUT', '/rest/v1/connections/vpg', admin, { type: 'postgres', url: url('first-secret') });
    await call('PUT', '/rest/v1/connections/vpg', admin, {
      type: 'postgres',
      url: url('second-secret'),
      poolSize: 3,
    });
    const shown = await call('GET', '/rest/v1/connections/vpg/versions/1');
    expect(shown.json().spec.url).toBe('********');
    const diff = await call('GET', '/rest/v1/connections/vpg/diff?from=1&to=2');
    expect(diff.body).not.toContain('secret');
    expect(diff.json().changes).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/poolSize', from: 10, to: 3 },
        { op: 'replace', path: '/url', from: '********', to: '********' },
      ]),
    );
    await call('POST', '/rest/v1/connections/vpg/versions/1/revert');
    const resolved = await s.ctx.definitions.resolve('connection', 'vpg');
    expect(resolved.spec['url']).toBe(url('first-secret'));
    expect(resolved.version).toBe(3);
  });

  it('keeps the history of a deleted definition, and a restore makes it again', async () => {
    await call('PUT', '/rest/v1/connections/gone', admin, { type: 'sqlite', path: 'files/gone.db' });
    await call('PUT', '/rest/v1/connections/gone', admin, { type: 'sqlite', path: 'files/gone2.db' });
    expect((await call('DELETE', '/rest/v1/connections/gone')).statusCode).toBe(204);
    expect((await call('GET', '/rest/v1/connections/gone/versions')).json()).toHaveLength(2);
    const again = await call('POST', '/rest/v1/connections/gone/versions/1/revert');
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ version: 3, path: 'files/gone.db' });
    // A restore is checked like a save: a flow whose connection is gone cannot come back.
    await call('PUT', '/rest/v1/connections/tmp', admin, { type: 'sqlite', path: 'files/tmp.db' });
    await call('PUT', '/rest/v1/flows/orphan', admin, { type: 'sql', connection: 'tmp', sql: 'select 1' });
    await call('DELETE', '/rest/v1/flows/orphan');
    await call('DELETE', '/rest/v1/connections/tmp');
    const refused = await call('POST', '/rest/v1/flows/orphan/versions/1/revert');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('REFERENCE_NOT_FOUND');
  });
});

describe('spec changes', () => {
  it('names each change by its JSON Pointer path, arrays by position', () => {
    expect(specChanges({ a: [1, 2], 'x/y': { '~': 1 } }, { a: [1, 3, 4], 'x/y': { '~': 2 } })).toEqual([
      { op: 'replace', path: '/a/1', from: 2, to: 3 },
      { op: 'add', path: '/a/2', to: 4 },
      { op: 'replace', path: '/x~1y/~0', from: 1, to: 2 },
    ]);
    expect(specChanges({ a: [1] }, { a: { 0: 1 } })).toEqual([
      { op: 'replace', path: '/a', from: [1], to: { 0: 1 } },
    ]);
  });
});
