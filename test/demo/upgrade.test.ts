/**
 * A data directory from before file roots: the demo's `demo.db` and `output` folder sit directly in the
 * data directory and its connections name them there. After an upgrade the server moves them into the
 * default file root on start, saves the connections with their new place, and the demo works as before,
 * with the rows it had.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/core/logger.js';
import { createDemoProject } from '../../src/demo/demo-project.js';
import { apiClient, startProcess } from '../helpers/processes.js';

const PASSWORD = 'upgrade-admin-pass';
const dataDir = mkdtempSync(join(tmpdir(), 'integrator-upgrade-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Lays the data directory out as the version before file roots did. */
async function oldLayout(): Promise<void> {
  const ctx = await createContext(
    loadSettings({ INTEGRATOR_DATA_DIR: dataDir, INTEGRATOR_ADMIN_PASSWORD: PASSWORD }),
    createLogger('silent'),
  );
  try {
    await createDemoProject(ctx);
    renameSync(join(dataDir, 'files', 'demo.db'), join(dataDir, 'demo.db'));
    rmSync(join(dataDir, 'files'), { recursive: true });
    mkdirSync(join(dataDir, 'output'));
    const db = new SQLite(join(dataDir, 'demo.db'));
    db.prepare("insert into patient values (41, 'Ada Old', '1815-12-10')").run();
    db.close();
    // The stored specs as the old version wrote them (its validation had no file roots to refuse them).
    await sql`update definitions set spec = ${JSON.stringify({ type: 'sqlite', path: 'demo.db', description: 'Demo database' })}
      where kind = 'connection' and name = 'demo'`.execute(ctx.store.db);
    await sql`update definitions set spec = ${JSON.stringify({ type: 'files', root: 'output', description: 'Folder for files the demo flows write' })}
      where kind = 'connection' and name = 'output'`.execute(ctx.store.db);
  } finally {
    await ctx.close();
  }
}

describe('upgrading a data directory from before file roots', { timeout: 60_000 }, () => {
  it('moves the demo database and output folder into files/ and keeps the demo working', async () => {
    await oldLayout();
    const proc = await startProcess('all', { INTEGRATOR_ADMIN_PASSWORD: PASSWORD }, dataDir);
    try {
      const { call, token } = await apiClient(proc.url, PASSWORD);
      expect(existsSync(join(dataDir, 'demo.db'))).toBe(false);
      expect(existsSync(join(dataDir, 'files', 'demo.db'))).toBe(true);
      expect(existsSync(join(dataDir, 'files', 'output'))).toBe(true);
      const demo = await call<{ path: string; updatedBy: string }>('GET', '/rest/v1/connections/demo');
      expect(demo.body).toMatchObject({ path: 'files/demo.db', updatedBy: 'system' });
      const output = await call<{ root: string }>('GET', '/rest/v1/connections/output');
      expect(output.body.root).toBe('files/output');

      const ran = await call<{ status: number }>('POST', '/rest/v1/flows/flow-name/my-flow/run');
      expect(ran.body).toMatchObject({ status: 0 });
      expect(readFileSync(join(dataDir, 'files', 'output', 'patients.csv'), 'utf8')).toBe(
        'patientid,name,birthdate\n41,Ada Old,1815-12-10\n',
      );
      const one = await fetch(`${proc.url}/plugins/schedules/rest/v1/httplistener/patients/41`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await one.json()).toEqual({ patientid: 41, name: 'Ada Old', birthdate: '1815-12-10' });
    } finally {
      await proc.kill('SIGTERM');
    }
    // A second start finds nothing left to move and changes nothing.
    const again = await startProcess('all', { INTEGRATOR_ADMIN_PASSWORD: PASSWORD }, dataDir);
    try {
      const { call } = await apiClient(again.url, PASSWORD);
      const demo = await call<{ version: number }>('GET', '/rest/v1/connections/demo');
      expect(demo.body.version).toBe(2);
    } finally {
      await again.kill('SIGTERM');
    }
  });
});
