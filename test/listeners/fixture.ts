/**
 * A real server (PostgreSQL metadata store) listening on a port, a PostgreSQL target database with a
 * `patient` table, and helpers to define listeners and flows and call them over HTTP.
 */
import pg from 'pg';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

export interface ListenerFixture {
  s: TestServer;
  url: string;
  target: pg.Pool;
  admin: { authorization: string };
  put(kind: 'flows' | 'listeners' | 'connections', name: string, spec: object): Promise<void>;
  call(path: string, init?: RequestInit & { prefix?: string }): Promise<Response>;
  close(): Promise<void>;
}

export async function listenerFixture(env: Record<string, string> = {}): Promise<ListenerFixture> {
  const s = await createTestServer({ store: 'postgres', env });
  const targetDb = await createPgDatabase('target');
  const target = new pg.Pool({ connectionString: targetDb.url, max: 2 });
  await target.query('create table patient (patientid integer primary key, name text, birthdate text)');
  const url = await s.app.listen({ port: 0, host: '127.0.0.1' });
  const admin = await s.login('admin', 'admin-password-1');
  const put = async (kind: string, name: string, spec: object) => {
    const res = await s.app.inject({
      method: 'PUT',
      url: `/rest/v1/${kind}/${name}`,
      headers: admin,
      payload: spec,
    });
    if (res.statusCode >= 300) throw new Error(`PUT ${kind}/${name}: ${res.statusCode} ${res.body}`);
  };
  await put('connections', 'pgtarget', { type: 'postgres', url: targetDb.url });
  return {
    s,
    url,
    target,
    admin,
    put,
    call: (path, init = {}) => fetch(`${url}${init.prefix ?? '/rest/v1/httplistener/'}${path}`, init),
    async close() {
      await target.end();
      await s.close();
      await targetDb.drop();
    },
  };
}

/** Flows the listener tests share: upsert the body into `patient`, and read one patient back. */
export async function patientFlows(f: ListenerFixture): Promise<void> {
  await f.put('flows', 'patient-in', {
    type: 'transfer',
    steps: [
      {
        from: { connection: '@request' },
        to: { connection: 'pgtarget', table: 'patient', mode: 'upsert', keys: ['patientid'] },
      },
    ],
  });
  await f.put('flows', 'patient-out', {
    type: 'transfer',
    parameters: { patientid: { type: 'integer' } },
    steps: [
      {
        from: { connection: 'pgtarget', query: 'select * from patient where patientid = {patientid}' },
        to: { connection: '@response' },
      },
    ],
  });
}
