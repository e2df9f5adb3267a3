/**
 * A real server (SQLite store) consuming subscriptions, a PostgreSQL target database, and helpers to
 * define subscriptions and wait for what they land.
 */
import pg from 'pg';
import { createTestServer, putDefinition, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

export interface SubscriptionFixture {
  s: TestServer;
  target: pg.Pool;
  targetUrl: string;
  admin: { authorization: string };
  put(kind: string, name: string, spec: object): Promise<void>;
  /** GET/POST a REST path as admin (or with the headers given); answers status and JSON body. */
  call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  /** Polls `probe` until it answers true. */
  until(what: string, probe: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

export async function subscriptionFixture(): Promise<SubscriptionFixture> {
  const s = await createTestServer();
  const db = await createPgDatabase('subs');
  const target = new pg.Pool({ connectionString: db.url, max: 2 });
  // Dropping the database at the end terminates what is still closing: not a failure of the test.
  target.on('error', () => undefined);
  const admin = await s.login('admin', 'admin-password-1');
  await putDefinition(s, admin, 'connections', 'pg', { type: 'postgres', url: db.url });
  return {
    s,
    target,
    targetUrl: db.url,
    admin,
    put: (kind, name, spec) => putDefinition(s, admin, kind, name, spec),
    async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, headers: Record<string, string> = admin) {
      const res = await s.app.inject({ method, url: path, headers });
      return { status: res.statusCode, body: res.body ? (res.json() as T) : (undefined as T) };
    },
    async until(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async count(table) {
      const res = await target
        .query<{ n: number }>(`select count(*)::int n from ${table}`)
        .catch(() => ({ rows: [{ n: 0 }] }));
      return res.rows[0]?.n ?? 0;
    },
    async close() {
      await s.close();
      await target.end();
      await db.drop();
    },
  };
}
