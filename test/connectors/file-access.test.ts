/**
 * FileRoots decides which local paths connections may use: the rules on real folders, and the data
 * directory created even when no other part of the server needs it (a PostgreSQL store and
 * INTEGRATOR_SECRET).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { FileRoots } from '../../src/connectors/file-access.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/core/logger.js';
import { createPgDatabase } from '../services.js';

const base = mkdtempSync(join(tmpdir(), 'integrator-access-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('file roots', () => {
  const dataDir = join(base, 'data');
  const outside = join(base, 'outside');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'x.csv'), 'a\n1\n');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'secret.key'), 'not really a secret');

  it('opens the default root of the data directory and nothing else of it', async () => {
    const roots = FileRoots.open({ dataDir, fileRoots: [join(dataDir, 'files')] });
    expect(statSync(join(dataDir, 'files')).mode & 0o777).toBe(0o700);
    const access = roots.forConnection(false);
    expect(await access.require(join(dataDir, 'files', 'new', 'a.csv'), 'a.csv')).toBe(
      join(roots.dataDir, 'files', 'new', 'a.csv'),
    );
    for (const p of ['integrator.db', 'secret.key', 'other/file.csv', '.']) {
      await expect(access.require(join(dataDir, p), p), p).rejects.toMatchObject({
        code: 'PATH_NOT_ALLOWED',
      });
    }
    await expect(access.require(join(outside, 'x.csv'), 'x.csv')).rejects.toThrow('outside the file roots');
    // Approved by an admin: outside the roots is fine, the data directory's own files still are not.
    const anywhere = roots.forConnection(true);
    expect(await anywhere.allows(join(outside, 'x.csv'))).toBe(true);
    expect(await anywhere.allows(join(dataDir, 'secret.key'))).toBe(false);
  });

  it('keeps the data directory closed under a root that contains it, and follows symlinks', async () => {
    const roots = FileRoots.open({ dataDir, fileRoots: [base] });
    const access = roots.forConnection(false);
    expect(await access.allows(join(outside, 'x.csv'))).toBe(true);
    expect(await access.allows(join(dataDir, 'files', 'a.csv'))).toBe(false);
    symlinkSync(join(dataDir, 'secret.key'), join(outside, 'key.csv'));
    expect(await access.allows(join(outside, 'key.csv'))).toBe(false);
    symlinkSync(join(base, 'nowhere'), join(outside, 'dangling.csv'));
    await expect(access.require(join(outside, 'dangling.csv'), 'dangling.csv')).rejects.toThrow(
      'symlink whose target does not exist',
    );
    expect(() => access.requireSync(join(outside, 'key.csv'), 'key.csv')).toThrow(
      "data directory's own files",
    );
  });

  it('refuses a root that is not an existing folder', () => {
    expect(() => FileRoots.open({ dataDir, fileRoots: [join(base, 'missing')] })).toThrow(
      /INTEGRATOR_FILE_ROOTS: '.*missing' must be an existing folder/,
    );
    expect(() => FileRoots.open({ dataDir, fileRoots: [join(outside, 'x.csv')] })).toThrow(
      'must be an existing folder',
    );
  });

  it('creates the data directory when a PostgreSQL store and INTEGRATOR_SECRET leave it to no one else', async () => {
    const pg = await createPgDatabase('roots');
    const fresh = join(base, 'pg-data');
    try {
      const ctx = await createContext(
        loadSettings({
          INTEGRATOR_DATA_DIR: fresh,
          INTEGRATOR_DATABASE_URL: pg.url,
          INTEGRATOR_SECRET: 'a-secret-of-at-least-thirty-two-characters',
          INTEGRATOR_DEMO: 'false',
        }),
        createLogger('silent'),
      );
      await ctx.close();
      expect(statSync(join(fresh, 'files')).isDirectory()).toBe(true);
    } finally {
      await pg.drop();
    }
  });
});
