/**
 * The package `npm pack` makes installs into an empty prefix from the registry and starts: the server
 * answers /readyz on the embedded store and a command-line command works. Packed with --ignore-scripts
 * from the dist/ the test setup built: the prepack script's clean build would delete dist/ under the
 * server processes other test files run at the same time. Slow (a real `npm install`), so one test.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/processes.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'integrator-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('installs in an empty folder and starts', { timeout: 1_200_000 }, async () => {
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: repo });
    const tarball = readdirSync(work).find((f) => /^integrator-.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const prefix = join(work, 'prefix');
    mkdirSync(prefix);
    const install = await run(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        join(work, tarball ?? ''),
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
      ],
      { cwd: work, maxBuffer: 16 * 1024 * 1024 },
    );
    // Every dependency a consumer gets accepts the Node versions the engines field promises (the repo's
    // own overrides do not apply to them).
    expect(`${install.stdout}\n${install.stderr}`).not.toMatch(/EBADENGINE/);
    const installed = join(prefix, 'node_modules', 'integrator');
    // What ships: the launcher and the compiled code, no sources and no build tooling.
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json']);
    const bin = join(prefix, 'node_modules', '.bin', 'integrator');
    const dataDir = join(work, 'data');
    const port = await freePort();
    const env = {
      ...process.env,
      INTEGRATOR_DATA_DIR: dataDir,
      INTEGRATOR_PORT: String(port),
      INTEGRATOR_HOST: '127.0.0.1',
      INTEGRATOR_ADMIN_PASSWORD: 'packaged-password',
      INTEGRATOR_LOG_LEVEL: 'warn',
    };
    const server = spawn(bin, ['start'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (b: Buffer) => {
      output += b.toString();
    });
    server.stderr.on('data', (b: Buffer) => {
      output += b.toString();
    });
    const exited = new Promise((done) => server.once('exit', done));
    try {
      const deadline = Date.now() + 60_000;
      let ready = false;
      while (!ready) {
        if (server.exitCode !== null) throw new Error(`the installed server exited:\n${output}`);
        if (Date.now() > deadline) throw new Error(`the installed server did not get ready:\n${output}`);
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      // The web console ships built: its page and the script it loads.
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
      expect(script).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${port}${script}`)).status).toBe(200);
      expect(readdirSync(join(installed, 'dist')).filter((f) => f.startsWith('.'))).toEqual([]);
      const demo = await fetch(`http://127.0.0.1:${port}/plugins/flows/rest/v1/flows/flow-name/my-flow/run`, {
        method: 'POST',
      });
      expect(demo.status).toBe(401);
      const { stdout } = await run(bin, ['user', 'list'], { cwd: work, env });
      expect(stdout).toMatch(/^admin\s+admin\s+enabled/m);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});
