/**
 * Feature modules start in any order: everything they start is built by the composition root, so a
 * queued listener run gets its stored payload from the first tick of the queue, whichever module starts
 * first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { bootstrapAdmin, type Context, createContext } from '../../src/context.js';
import { createLogger } from '../../src/core/logger.js';
import type { Run } from '../../src/runs/run-types.js';
import { buildApp } from '../../src/server/app.js';
import type { App } from '../../src/server/app-types.js';
import type { FeatureModule } from '../../src/server/feature-module.js';
import { featureModules } from '../../src/server/modules.js';
import { waitFor } from '../runs/helpers.js';

const PASSWORD = 'admin-password-1';

const orders: [string, (m: FeatureModule[]) => FeatureModule[]][] = [
  ['reversed', (m) => [...m].reverse()],
  ['rotated', (m) => [...m.slice(2), ...m.slice(0, 2)]],
  ['runs first, listeners last', (m) => [...m].sort((a, b) => rank(a.name) - rank(b.name))],
];

function rank(name: string): number {
  return name === 'runs' ? 0 : name === 'listeners' ? 2 : 1;
}

async function ended(ctx: Context, id: string): Promise<Run> {
  return waitFor(`run ${id}`, async () => {
    const run = await ctx.runs.get(id);
    return run.status === 'queued' || run.status === 'running' ? undefined : run;
  });
}

describe('feature modules start in any order', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  for (const [label, order] of orders) {
    it(`runs a queued listener payload with its body when the modules start ${label}`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'integrator-order-'));
      const settings = loadSettings({
        INTEGRATOR_DATA_DIR: dataDir,
        INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
        INTEGRATOR_DEMO: 'false',
        INTEGRATOR_WORKERS: '2',
      });
      const ctx = await createContext(settings, createLogger('silent'));
      await bootstrapAdmin(ctx, () => {});
      const modules = order(featureModules());
      expect(modules.map((m) => m.name)).not.toEqual(featureModules().map((m) => m.name));
      const app: App = await buildApp(
        ctx,
        modules.flatMap((m) => (m.routes ? [m.routes] : [])),
      );
      let started = false;
      cleanup = async () => {
        await app.close();
        if (started) for (const m of [...modules].reverse()) await m.stop?.();
        await ctx.close();
        rmSync(dataDir, { recursive: true, force: true });
      };
      const token = await app.inject({
        method: 'POST',
        url: '/rest/v1/token-auth/issue',
        payload: { login: 'admin', password: PASSWORD },
      });
      const admin = { authorization: `Bearer ${token.json<{ token: string }>().token}` };
      const put = async (kind: string, name: string, spec: object) => {
        const res = await app.inject({
          method: 'PUT',
          url: `/rest/v1/${kind}/${name}`,
          headers: admin,
          payload: spec,
        });
        expect(res.statusCode, res.body).toBeLessThan(300);
      };
      await put('connections', 'out', { type: 'files', root: 'files/out' });
      await put('flows', 'keep', {
        type: 'transfer',
        steps: [{ from: { connection: '@request' }, to: { connection: 'out', file: 'kept.csv' } }],
      });
      await put('listeners', 'keep', { path: 'keep', flow: 'keep', mode: 'async' });
      const call = async (body: string) => {
        const res = await app.inject({
          method: 'POST',
          url: '/rest/v1/httplistener/keep',
          headers: { ...admin, 'content-type': 'text/csv' },
          payload: body,
        });
        expect(res.statusCode, res.body).toBe(202);
        return res.json<{ runId: string }>().runId;
      };

      // Accepted before any module started: stored with its queued run, waiting for a worker.
      const early = await call('id,name\n1,Ann\n2,Bo\n');
      expect((await ctx.runs.get(early)).status).toBe('queued');

      for (const m of modules) await m.init?.(ctx);
      started = true;
      const first = await ended(ctx, early);
      expect(first.status, first.error ?? '').toBe('succeeded');
      expect(first.rowsWritten).toBe(2);
      expect(first.attempt).toBe(1);

      const late = await ended(ctx, await call('id,name\n3,Cy\n'));
      expect(late.status, late.error ?? '').toBe('succeeded');
      expect(readFileSync(join(dataDir, 'files', 'out', 'kept.csv'), 'utf8')).toBe(
        'id,name\n1,Ann\n2,Bo\n3,Cy\n',
      );
    });
  }
});
