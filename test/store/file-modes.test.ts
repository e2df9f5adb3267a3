import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/core/logger.js';

const parent = mkdtempSync(join(tmpdir(), 'integrator-modes-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('data directory permissions', () => {
  it('keeps the data directory 0700 and the store and secret files 0600, new or existing', async () => {
    const fresh = join(parent, 'fresh');
    const existing = join(parent, 'existing');
    mkdirSync(existing, { mode: 0o755 });
    for (const dir of [fresh, existing]) {
      const ctx = await createContext(loadSettings({ INTEGRATOR_DATA_DIR: dir }), createLogger('silent'));
      try {
        await ctx.audit.record({ action: 'test.write', outcome: 'success' });
        await ctx.audit.drain();
        expect(mode(dir), dir).toBe(0o700);
        expect(mode(join(dir, 'integrator.db'))).toBe(0o600);
        expect(mode(join(dir, 'secret.key'))).toBe(0o600);
        // The default file root is created with the data directory, as private as it.
        expect(mode(join(dir, 'files'))).toBe(0o700);
        const wal = join(dir, 'integrator.db-wal');
        if (existsSync(wal)) expect(mode(wal)).toBe(0o600);
      } finally {
        await ctx.close();
      }
    }
  });
});
