import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, putDefinition, type TestServer } from '../helpers/server.js';

/** A file name built from a caller's value: a bad value is the caller's 400, a missing file their 404. */
describe('file names from parameters', () => {
  let s: TestServer;
  let admin: { authorization: string };
  const get = (name: string) =>
    s.app.inject({ method: 'GET', url: `/rest/v1/httplistener/reports/${name}`, headers: admin });

  beforeAll(async () => {
    s = await createTestServer();
    admin = await s.login('admin', 'admin-password-1');
    await mkdir(join(s.dataDir, 'files', 'reports'), { recursive: true });
    await writeFile(join(s.dataDir, 'files', 'reports', 'q1.csv'), 'id,total\n1,10\n');
    const put = (kind: string, name: string, spec: object) => putDefinition(s, admin, kind, name, spec);
    await put('connections', 'reports', { type: 'files', root: 'files/reports' });
    await put('flows', 'report', {
      type: 'transfer',
      parameters: { name: { type: 'string' } },
      steps: [{ from: { connection: 'reports', file: '{name}.csv' }, to: { connection: '@response' } }],
    });
    await put('listeners', 'report', { path: 'reports/{name}', methods: ['GET'], flow: 'report' });
  });
  afterAll(() => s.close());

  it('answers the file a parameter names', async () => {
    const res = await get('q1');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([{ id: '1', total: '10' }]);
  });

  it('answers 404 naming the file, not the folder, when the named file does not exist', async () => {
    const res = await get('q9');
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json().error.code).toBe('PARAMETER_NOT_FOUND');
    expect(res.json().error.message).toMatch(/'q9\.csv'/);
    expect(res.body).not.toContain(s.dataDir);
  });

  it('answers 400 naming the parameter for a value too long to be a file name', async () => {
    const res = await get('x'.repeat(300));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('PARAMETER_INVALID');
    expect(res.json().error.message).toMatch(/parameter 'name'.*255 bytes/);
    expect(res.body).not.toContain(s.dataDir);
  });

  it('answers 400 for a value that would leave the folder', async () => {
    for (const bad of ['a%00b', '..%5Cx', 'x..y']) {
      const res = await get(bad);
      expect(res.statusCode, `${bad}: ${res.body}`).toBe(400);
      expect(res.json().error.code).toBe('PARAMETER_INVALID');
    }
  });
});
