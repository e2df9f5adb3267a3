import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'integrator-cli-'));
const env = { ...process.env, INTEGRATOR_DATA_DIR: dataDir, INTEGRATOR_ADMIN_PASSWORD: 'bootstrap-pass' };

async function cli(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run('node', ['bin/integrator.js', ...args], { env });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  } else {
    child.child.stdin?.end();
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('integrator CLI', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints help for every command', async () => {
    for (const args of [
      ['--help'],
      ['start', '--help'],
      ['user', '--help'],
      ['user', 'add', '--help'],
      ['audit', 'verify', '--help'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: integrator/);
    }
  });

  it('adds, lists, changes, disables and deletes users, and verifies the audit trail', async () => {
    const add = await cli(
      ['user', 'add', 'frank', '--role', 'editor', '--password-stdin'],
      'frank-password\n',
    );
    expect(add.stdout).toContain("Created user 'frank' with role editor");
    const generated = await cli(['user', 'add', 'grace']);
    expect(generated.stdout).toMatch(/Password \(shown once\): \S{20,}/);

    const list = await cli(['user', 'list', '--json']);
    const users = JSON.parse(list.stdout) as { login: string; role: string; disabled: boolean }[];
    expect(users.map((u) => u.login).sort()).toEqual(['frank', 'grace']);

    expect((await cli(['user', 'passwd', 'frank', '--password', 'frank-password-2'])).code).toBe(0);
    expect((await cli(['user', 'disable', 'frank'])).code).toBe(0);
    expect((await cli(['user', 'role', 'grace', 'viewer'])).code).toBe(0);
    const after = JSON.parse((await cli(['user', 'list', '--json'])).stdout) as typeof users;
    expect(after.find((u) => u.login === 'frank')?.disabled).toBe(true);
    expect(after.find((u) => u.login === 'grace')?.role).toBe('viewer');
    expect((await cli(['user', 'delete', 'grace'])).code).toBe(0);

    const missing = await cli(['user', 'delete', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("User 'nobody' does not exist");
    const short = await cli(['user', 'add', 'hank', '--password', 'x']);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 8 characters');

    const verify = await cli(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/Audit trail intact: \d+ events verified/);
  });
});
