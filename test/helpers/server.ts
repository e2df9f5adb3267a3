/**
 * Builds a real Integrator (store, services, HTTP app) in a temporary data directory for one test file.
 * `store: 'postgres'` puts the metadata store in a fresh database on the machine's PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../../src/config.js';
import { bootstrapAdmin, type Context, createContext } from '../../src/context.js';
import { createLogger } from '../../src/core/logger.js';
import type { Extensions } from '../../src/extensions.js';
import { buildApp } from '../../src/server/app.js';
import type { App } from '../../src/server/app-types.js';
import { featureModules } from '../../src/server/modules.js';
import { createPgDatabase } from '../services.js';

export const ADMIN_PASSWORD = 'admin-password-1';

export interface TestServer {
  app: App;
  ctx: Context;
  dataDir: string;
  /** Logs in and returns `Authorization` headers. */
  login(login: string, password: string): Promise<{ authorization: string }>;
  /** Creates a user with the role and returns its auth headers. */
  userWithRole(role: string): Promise<{ authorization: string; login: string }>;
  close(): Promise<void>;
}

/**
 * Saves a definition (`PUT /rest/v1/{kind}/{name}`) with the caller's headers; throws with the answer
 * when it is refused, so a test's setup fails at the definition that was wrong.
 */
export async function putDefinition(
  s: Pick<TestServer, 'app'>,
  headers: { authorization: string },
  kind: string,
  name: string,
  spec: object,
): Promise<void> {
  const res = await s.app.inject({ method: 'PUT', url: `/rest/v1/${kind}/${name}`, headers, payload: spec });
  if (res.statusCode >= 300) throw new Error(`PUT ${kind}/${name}: ${res.statusCode} ${res.body}`);
}

export async function createTestServer(
  options: { store?: 'sqlite' | 'postgres'; env?: Record<string, string>; extensions?: Extensions } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'integrator-test-'));
  const pgdb = options.store === 'postgres' ? await createPgDatabase('store') : undefined;
  const settings: Settings = loadSettings({
    INTEGRATOR_DATA_DIR: dataDir,
    INTEGRATOR_ADMIN_PASSWORD: ADMIN_PASSWORD,
    INTEGRATOR_DEMO: 'false',
    ...(pgdb ? { INTEGRATOR_DATABASE_URL: pgdb.url } : {}),
    ...options.env,
  });
  const ctx = await createContext(
    settings,
    createLogger('silent'),
    options.extensions ? { extensions: options.extensions } : {},
  );
  await bootstrapAdmin(ctx, () => {});
  const modules = featureModules();
  for (const m of modules) await m.init?.(ctx);
  const app = await buildApp(
    ctx,
    modules.flatMap((m) => (m.routes ? [m.routes] : [])),
  );
  let n = 0;
  const login = async (user: string, password: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/rest/v1/token-auth/issue',
      payload: { login: user, password },
    });
    if (res.statusCode !== 200) throw new Error(`login ${user} failed: ${res.statusCode} ${res.body}`);
    return { authorization: `Bearer ${res.json<{ token: string }>().token}` };
  };
  return {
    app,
    ctx,
    dataDir,
    login,
    async userWithRole(role: string) {
      const name = `${role}-user-${++n}`;
      const admin = await login('admin', ADMIN_PASSWORD);
      const res = await app.inject({
        method: 'POST',
        url: '/rest/v1/users',
        headers: admin,
        payload: { login: name, password: 'password-123', role },
      });
      if (res.statusCode !== 201) throw new Error(`create ${name}: ${res.body}`);
      return { ...(await login(name, 'password-123')), login: name };
    },
    async close() {
      await app.close();
      for (const m of [...modules].reverse()) await m.stop?.();
      await ctx.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
