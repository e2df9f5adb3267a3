import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListenerFixture, listenerFixture } from './fixture.js';

/** Who is at fault decides the status: a record that does not fit is the caller's, a target down is not. */
describe('listeners: errors say whose they are', () => {
  let f: ListenerFixture;
  const post = (path: string, payload: string) =>
    f.s.app.inject({
      method: 'POST',
      url: `/rest/v1/httplistener/${path}`,
      headers: { ...f.admin, 'content-type': 'application/json' },
      payload,
    });
  const count = async (table: string) =>
    Number((await f.target.query(`select count(*) as n from ${table}`)).rows[0].n);

  beforeAll(async () => {
    f = await listenerFixture();
    await f.target.query(
      'create table strict (id integer primary key, name text not null check (length(name) < 10), born date)',
    );
    const lite = new Database(join(f.s.dataDir, 'files', 'lite.db'));
    lite.exec('create table strict (id integer primary key, name text not null, born text)');
    lite.close();
    await f.put('connections', 'lite', { type: 'sqlite', path: 'files/lite.db' });
    await f.put('connections', 'down', { type: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    for (const [name, connection] of [
      ['strict-in', 'pgtarget'],
      ['lite-in', 'lite'],
      ['down-in', 'down'],
    ] as const) {
      await f.put('flows', name, {
        type: 'transfer',
        steps: [{ from: { connection: '@request' }, to: { connection, table: 'strict', mode: 'append' } }],
      });
      await f.put('listeners', name, { path: `errors/${name}`, flow: name });
    }
    const seed = await post('errors/lite-in', '{"id": 1, "name": "seed", "born": "2000-01-01"}');
    expect(seed.statusCode, seed.body).toBe(200);
  });
  afterAll(() => f.close());

  it('answers 422 naming the field for a record with a field the table lacks', async () => {
    for (const path of ['errors/strict-in', 'errors/lite-in']) {
      const res = await post(path, '[{"id": 2, "name": "ok"}, {"id": 3, "name": "ok", "nickname": "x"}]');
      expect(res.statusCode, `${path}: ${res.body}`).toBe(422);
      expect(res.json().error.code, path).toBe('UNKNOWN_FIELD');
      expect(res.json().error.message, path).toMatch(/nickname/);
    }
    expect(await count('strict')).toBe(0);
  });

  it('answers 422 for a value of the wrong type and for a broken constraint, writing nothing', async () => {
    const cases: [string, string, RegExp][] = [
      ['[{"id": 4, "name": "a"}, {"id": "four", "name": "b"}]', 'INVALID_VALUE', /integer.*four/],
      ['[{"id": 5, "name": "a", "born": "2024-13-45"}]', 'INVALID_VALUE', /2024-13-45/],
      ['[{"id": 6, "name": "a"}, {"id": 7, "name": null}]', 'CONSTRAINT_VIOLATION', /"name"/],
      ['[{"id": 8, "name": "far too long a name"}]', 'CONSTRAINT_VIOLATION', /strict_name_check/],
      ['[{"id": 9, "name": "a"}, {"id": 9, "name": "b"}]', 'CONSTRAINT_VIOLATION', /Key \(id\)=\(9\)/],
    ];
    for (const [body, code, message] of cases) {
      const res = await post('errors/strict-in', body);
      expect(res.statusCode, `${body}: ${res.body}`).toBe(422);
      expect(res.json().error.code, body).toBe(code);
      expect(res.json().error.message, body).toMatch(message);
      expect(res.json().error.runId, body).toMatch(/-/);
    }
    expect(await count('strict')).toBe(0);
    const lite = await post('errors/lite-in', '[{"id": 1, "name": "again"}]');
    expect(lite.statusCode, lite.body).toBe(422);
    expect(lite.json().error.code).toBe('CONSTRAINT_VIOLATION');
  });

  it('answers 400 for a body that cannot be read, and 503 when the target is down', async () => {
    const bad = await post('errors/strict-in', '[{"id": 1,');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('FORMAT_ERROR');
    const down = await post('errors/down-in', '[{"id": 1, "name": "a"}]');
    expect(down.statusCode, down.body).toBe(503);
    expect(down.json().error.code).toBe('CONNECTION_FAILED');
  });

  it('keeps the run API answer {"status":1,"exception":…} for a run that fails on its data', async () => {
    await f.put('flows', 'bad-sql', {
      type: 'sql',
      connection: 'pgtarget',
      sql: "insert into strict (id, name) values (1, 'a very long name indeed')",
    });
    const res = await f.s.app.inject({
      method: 'POST',
      url: '/plugins/flows/rest/v1/flows/flow-name/bad-sql/run',
      headers: f.admin,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 1, exception: expect.stringMatching(/strict_name_check/) });
  });
});
