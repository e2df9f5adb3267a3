import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgDatabase } from '../services.js';

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

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('integrator audit verify without a store', { timeout: 180_000 }, () => {
  it('exits 2 with one line, and creates nothing, for a missing data directory or database', async () => {
    const missing = join(dataDir, 'no-such-dir');
    const sqliteRun = run('node', ['bin/integrator.js', 'audit', 'verify'], {
      env: { ...process.env, INTEGRATOR_DATA_DIR: missing, INTEGRATOR_DATABASE_URL: '' },
    }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    const r = await sqliteRun;
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(
      `error: no metadata store at ${join(missing, 'integrator.db')} (check INTEGRATOR_DATA_DIR)\n`,
    );
    expect(existsSync(missing)).toBe(false);
    const pgdb = await createPgDatabase('noaudit');
    try {
      for (const url of [pgdb.url, `${pgdb.url}_gone`]) {
        const p = await run('node', ['bin/integrator.js', 'audit', 'verify'], {
          env: { ...process.env, INTEGRATOR_DATA_DIR: missing, INTEGRATOR_DATABASE_URL: url },
        }).catch((e: { code: number; stdout: string; stderr: string }) => e);
        expect(p).toMatchObject({ code: 2, stdout: '' });
        expect(p.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(p.stderr).toMatch(
          /^error: (no metadata store in the database|cannot open the metadata store)/,
        );
      }
      const c = new pg.Client({ connectionString: pgdb.url });
      await c.connect();
      const tables = await c.query(
        `select count(*)::int n from information_schema.tables where table_schema = 'public'`,
      );
      await c.end();
      expect(tables.rows[0].n).toBe(0);
    } finally {
      await pgdb.drop();
    }
  });
});

describe('integrator CLI', { timeout: 180_000 }, () => {
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

describe('integrator apply, export, run and connections', { timeout: 180_000 }, () => {
  const project = join(dataDir, 'project.yaml');
  it('applies a project, runs a flow with parameters and a progress line, exports it, and runs from a file', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(
      project,
      [
        'kind: connection',
        'name: local',
        'type: sqlite',
        'path: files/cli.db',
        '---',
        'kind: connection',
        'name: out',
        'type: files',
        'root: files/out',
        '---',
        'kind: flow',
        'name: numbers',
        'type: transfer',
        'parameters: { upto: { type: integer } }',
        'steps:',
        '  - from: { connection: local, query: "with recursive s(n) as (select 1 union all select n + 1 from s where n < {upto}) select n from s" }',
        '    to: { connection: out, file: numbers.csv, mode: replace }',
        '',
      ].join('\n'),
    );
    const applied = await cli(['apply', '-f', project]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('flow/numbers created');
    expect((await cli(['apply', '-f', project])).stdout).toContain('flow/numbers unchanged');

    const ran = await cli(['run', 'numbers', '--param', 'upto=5']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/succeeded: 5 rows written/);
    expect(readFileSync(join(dataDir, 'files', 'out', 'numbers.csv'), 'utf8')).toBe('n\n1\n2\n3\n4\n5\n');

    const failed = await cli(['run', 'numbers', '--param', 'upto=five']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("parameter 'upto' must be an integer");

    const exported = await cli(['export']);
    expect(exported.stdout).toMatch(/kind: flow\nname: numbers/);

    expect((await cli(['connections', 'test', 'local'])).code).toBe(0);
    const missing = await cli(['connections', 'test', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Connection 'nope' does not exist");

    // From the file alone: paths resolve next to it, nothing is stored on the server.
    const fromFile = await cli(['run', 'numbers', '-f', project, '--param', 'upto=3']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(readFileSync(join(dataDir, 'files', 'out', 'numbers.csv'), 'utf8')).toBe('n\n1\n2\n3\n');
  });
});
