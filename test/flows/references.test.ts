import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../helpers/server.js';

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const copy = (from: string, to: string) => ({
  type: 'transfer',
  steps: [{ from: { connection: from, table: 'a' }, to: { connection: to, table: 'b' } }],
});
const pipeline = (...flows: string[]) => ({ type: 'pipeline', flows: flows.map((flow) => ({ flow })) });

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`references between definitions (${store} store)`, () => {
    let s: TestServer;
    let editor: { authorization: string };
    const put = (plural: string, name: string, payload: object) =>
      s.app.inject({ method: 'PUT', url: `/rest/v1/${plural}/${name}`, headers: editor, payload });
    const del = (plural: string, name: string) =>
      s.app.inject({ method: 'DELETE', url: `/rest/v1/${plural}/${name}`, headers: editor });
    const apply = (yaml: string) =>
      s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...editor, 'content-type': 'application/yaml' },
        payload: yaml,
      });
    const error = (res: { json(): unknown }) => (res.json() as ErrorBody).error;

    beforeAll(async () => {
      s = await createTestServer({ store });
      editor = await s.userWithRole('editor');
      expect((await put('connections', 'db', { type: 'sqlite', path: 'files/refs.db' })).statusCode).toBe(
        201,
      );
    });
    afterAll(() => s.close());

    it('refuses with 422 and the field path a definition naming an unknown connection or flow', async () => {
      const cases: [string, string, object, string, string][] = [
        ['flows', 'f1', copy('db', 'nowhere'), '/steps/0/to/connection', "connection 'nowhere'"],
        ['flows', 'f2', copy('missing', '@response'), '/steps/0/from/connection', "connection 'missing'"],
        [
          'flows',
          'f3',
          { type: 'sql', connection: 'gone', sql: 'select 1' },
          '/connection',
          "connection 'gone'",
        ],
        ['flows', 'f4', pipeline('no-such-flow'), '/flows/0/flow', "flow 'no-such-flow'"],
        ['listeners', 'l1', { path: 'x/y', flow: 'no-such-flow' }, '/flow', "flow 'no-such-flow'"],
        ['schedules', 's1', { cron: '0 * * * *', flow: 'no-such-flow' }, '/flow', "flow 'no-such-flow'"],
        [
          'webhooks',
          'w1',
          {
            url: 'http://127.0.0.1:9/h',
            secret: 'a-webhook-secret-of-32-characters',
            flows: ['no-such-flow'],
          },
          '/flows/0',
          "flow 'no-such-flow'",
        ],
      ];
      for (const [plural, name, spec, path, what] of cases) {
        const res = await put(plural, name, spec);
        expect(res.statusCode, `${plural}/${name}: ${res.body}`).toBe(422);
        expect(error(res).code).toBe('REFERENCE_NOT_FOUND');
        expect(error(res).details).toEqual([{ path, message: `${what} does not exist` }]);
        expect((await s.app.inject({ url: `/rest/v1/${plural}/${name}`, headers: editor })).statusCode).toBe(
          404,
        );
      }
      // @request and @response are not stored connections.
      expect((await put('flows', 'echo', copy('@request', '@response'))).statusCode).toBe(201);
    });

    it('refuses a pipeline that reaches itself, directly or through others', async () => {
      expect((await put('flows', 'leaf', copy('db', 'db'))).statusCode).toBe(201);
      const self = await put('flows', 'self', pipeline('leaf', 'self'));
      expect(self.statusCode).toBe(422);
      expect(error(self)).toMatchObject({
        code: 'REFERENCE_CYCLE',
        details: [{ path: '/flows/1/flow', message: "flow 'self' would run itself: self → self" }],
      });
      expect((await put('flows', 'b', pipeline('leaf'))).statusCode).toBe(201);
      expect((await put('flows', 'a', pipeline('b'))).statusCode).toBe(201);
      expect((await put('flows', 'c', pipeline('a'))).statusCode).toBe(201);
      const loop = await put('flows', 'b', pipeline('leaf', 'c'));
      expect(loop.statusCode).toBe(422);
      expect(error(loop).message).toBe("/flows/1/flow: flow 'b' would run itself: b → c → a → b");
      // The stored b is unchanged.
      const b = await s.app.inject({ url: '/rest/v1/flows/b', headers: editor });
      expect(b.json().flows).toEqual([{ flow: 'leaf' }]);
    });

    it('refuses with 409 to delete what others still name, and names them', async () => {
      expect((await put('listeners', 'uses-leaf', { path: 'refs/leaf', flow: 'leaf' })).statusCode).toBe(201);
      expect((await put('schedules', 'nightly', { cron: '0 3 * * *', flow: 'leaf' })).statusCode).toBe(201);
      const flow = await del('flows', 'leaf');
      expect(flow.statusCode).toBe(409);
      expect(error(flow).code).toBe('STILL_REFERENCED');
      expect(error(flow).message).toBe(
        "Flow 'leaf' is still used by flow 'b' (/flows/0/flow), listener 'uses-leaf' (/flow), schedule 'nightly' (/flow); change or delete those first",
      );
      const conn = await del('connections', 'db');
      expect(conn.statusCode).toBe(409);
      expect(error(conn).message).toMatch(
        /^Connection 'db' is still used by flow 'leaf' \(\/steps\/0\/from\/connection\)/,
      );
      for (const [plural, name] of [
        ['listeners', 'uses-leaf'],
        ['schedules', 'nightly'],
        ['flows', 'c'],
        ['flows', 'a'],
        ['flows', 'b'],
        ['flows', 'leaf'],
      ] as const) {
        expect((await del(plural, name)).statusCode, `${plural}/${name}`).toBe(204);
      }
    });

    it('apply checks the whole graph before writing anything', async () => {
      const good = `
kind: flow
name: p1
type: pipeline
flows: [{ flow: p2 }]
---
kind: flow
name: p2
type: sql
connection: later
sql: select 1
---
kind: connection
name: later
type: sqlite
path: files/later.db
---
kind: listener
name: p1-in
path: refs/p1
flow: p1
`;
      const ok = await apply(good);
      expect(ok.statusCode, ok.body).toBe(200);
      const bad = `
kind: connection
name: never-written
type: sqlite
path: files/nw.db
---
kind: flow
name: q1
type: pipeline
flows: [{ flow: q2 }]
---
kind: flow
name: q2
type: pipeline
flows: [{ flow: q1 }]
---
kind: schedule
name: q-nightly
cron: "0 1 * * *"
flow: unknown-flow
`;
      const refused = await apply(bad);
      expect(refused.statusCode).toBe(422);
      expect(error(refused).code).toBe('REFERENCE_CYCLE');
      expect(error(refused).details?.map((d) => d.message)).toEqual([
        "flow 'q1' would run itself: q1 → q2 → q1",
        "flow 'q2' would run itself: q2 → q1 → q2",
        "flow 'unknown-flow' does not exist",
      ]);
      expect(error(refused).details?.[2]?.path).toMatch(/ \/flow$/);
      for (const url of [
        '/rest/v1/connections/never-written',
        '/rest/v1/flows/q1',
        '/rest/v1/schedules/q-nightly',
      ]) {
        expect((await s.app.inject({ url, headers: editor })).statusCode, url).toBe(404);
      }
    });

    it('fails a run whose pipelines nest too deep (a cycle that bypassed the check) and keeps serving', async () => {
      expect((await put('flows', 'deep', pipeline('echo'))).statusCode).toBe(201);
      // Written straight into the store, as an older version or a hand edit could leave it.
      await s.ctx.store.db
        .updateTable('definitions')
        .set({ spec: JSON.stringify(pipeline('deep')) })
        .where('kind', '=', 'flow')
        .where('name', '=', 'deep')
        .execute();
      await new Promise((r) => setTimeout(r, 1100)); // the definition cache
      const res = await s.app.inject({
        method: 'POST',
        url: '/plugins/flows/rest/v1/flows/flow-name/deep/run',
        headers: editor,
      });
      expect(res.statusCode).toBe(200);
      const answer = res.json();
      expect(answer.status).toBe(1);
      expect(answer.exception).toMatch(/pipelines nest at most 16 deep/);
      const run = await s.app.inject({ url: `/rest/v1/runs/${answer.runId}`, headers: editor });
      expect(run.json()).toMatchObject({ flow: 'deep', status: 'failed' });
      const admin = await s.login('admin', 'admin-password-1');
      const audit = await s.app.inject({ url: '/rest/v1/audit', headers: admin });
      const finished = audit
        .json()
        .events.filter(
          (e: { action: string; target: string }) => e.action === 'flow.run.finished' && e.target === 'deep',
        );
      expect(finished.length).toBe(17);
      expect((await s.app.inject({ url: '/rest/v1/me', headers: editor })).statusCode).toBe(200);
    });
  });
}
