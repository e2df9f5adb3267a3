/**
 * `integrator start` as a product starts: a start-up failure is one line naming the setting or the cause
 * and exit code 2, never a stack trace; and the command line loads a command's modules only when that
 * command runs (checked by recording every module a `--help` process resolves).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'integrator-startup-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function integrator(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...nodeArgs, 'bin/integrator.js', ...args], {
      cwd: repo,
      env: {
        ...process.env,
        INTEGRATOR_DATA_DIR: dataDir,
        INTEGRATOR_HOST: '127.0.0.1',
        INTEGRATOR_DEMO: 'false',
        INTEGRATOR_ADMIN_PASSWORD: 'startup-password',
        INTEGRATOR_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The failure is exactly one line on stderr, with no stack frame. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0] ?? '';
}

describe('start-up failures', { timeout: 60_000 }, () => {
  it('a malformed setting names the setting and exits 2', async () => {
    const res = await integrator(['start'], { INTEGRATOR_PORT: 'eighty' });
    expect(res.code).toBe(2);
    expect(expectOneLine(res.stderr)).toBe(
      "integrator: cannot start: INTEGRATOR_PORT must be an integer from 0 to 65535, got 'eighty'",
    );
  });

  it('a malformed or missing file root names INTEGRATOR_FILE_ROOTS and exits 2', async () => {
    const empty = await integrator(['start'], { INTEGRATOR_FILE_ROOTS: `${dataDir}::/srv` });
    expect(empty.code).toBe(2);
    expect(expectOneLine(empty.stderr)).toBe(
      `integrator: cannot start: INTEGRATOR_FILE_ROOTS entry 2 is empty, in '${dataDir}::/srv'; separate folders with ':'`,
    );
    const missing = join(dataDir, 'no-such-root');
    const gone = await integrator(['start'], { INTEGRATOR_FILE_ROOTS: missing });
    expect(gone.code).toBe(2);
    expect(expectOneLine(gone.stderr)).toMatch(
      `integrator: cannot start: INTEGRATOR_FILE_ROOTS: '${missing}' must be an existing folder (ENOENT`,
    );
  });

  it('a port in use names the port and exits 2', async () => {
    const taken: Server = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const res = await integrator(['start', '--port', String(port)]);
      expect(res.code).toBe(2);
      expect(expectOneLine(res.stderr)).toBe(
        `integrator: cannot start: port ${port} on 127.0.0.1 is already in use by another process (INTEGRATOR_PORT, INTEGRATOR_HOST)`,
      );
    } finally {
      await new Promise((done) => taken.close(done));
    }
  });

  it('an unreachable metadata store names the store setting and the cause, and exits 2', async () => {
    const res = await integrator(['start'], {
      INTEGRATOR_DATABASE_URL: 'postgres://postgres:secret-pw@127.0.0.1:1/integrator',
      INTEGRATOR_PORT: '0',
    });
    expect(res.code).toBe(2);
    const line = expectOneLine(res.stderr);
    expect(line).toContain('cannot open the metadata store');
    expect(line).toContain('(INTEGRATOR_DATABASE_URL)');
    expect(line).toContain('ECONNREFUSED 127.0.0.1:1');
    expect(line).not.toContain('secret-pw');
  });
});

// Records every file the process resolves, from the first import on.
const TRACE_HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
import Module from 'node:module';
const seen = new Set();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { seen.add(Module._resolveFilename(request, parent, isMain)); } catch {}
  return load.apply(this, arguments);
};
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => seen.add(url));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(
  'let port; export function initialize(data) { port = data.port; }' +
  'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }'),
  { data: { port: port2 }, transferList: [port2] });
process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...seen]) + '\\n'));
`)}`;

async function loadedBy(args: string[]): Promise<string[]> {
  const res = await integrator(args, {}, ['--import', TRACE_HOOK]);
  expect(res.code).toBe(0);
  const line = res.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  const parsed: unknown = JSON.parse(line?.slice('LOADED '.length) ?? '[]');
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

const packageOf = (file: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];

describe('the command line loads what a command needs', { timeout: 60_000 }, () => {
  it('--help loads the command-line parser only: no server, store, driver or schema library', async () => {
    const files = await loadedBy(['--help']);
    expect(files.some((f) => f.includes('/dist/cli/main.js'))).toBe(true);
    const packages = new Set(files.flatMap((f) => packageOf(f) ?? []));
    expect([...packages]).toEqual(['commander']);
    expect(files.filter((f) => f.includes('/dist/server/') || f.includes('/dist/store/'))).toEqual([]);
  });

  it('a store command on the embedded store loads neither the HTTP server nor the other drivers', async () => {
    const files = await loadedBy(['user', 'list']);
    const packages = new Set(files.flatMap((f) => packageOf(f) ?? []));
    expect(packages.has('kysely')).toBe(true);
    for (const heavy of [
      'fastify',
      'pg',
      'mysql2',
      'bullmq',
      'ioredis',
      '@fastify/swagger-ui',
      'prom-client',
    ])
      expect(packages.has(heavy), heavy).toBe(false);
  });

  it('the user and audit commands load only the store and its services', async () => {
    for (const command of [
      ['user', 'list'],
      ['audit', 'verify'],
    ]) {
      const files = await loadedBy(command);
      const packages = new Set(files.flatMap((f) => packageOf(f) ?? []));
      // Listing users hashes no password and validates nothing against a schema.
      for (const unused of ['@sinclair/typebox', '@node-rs/argon2'])
        expect(packages.has(unused), `${command.join(' ')}: ${unused}`).toBe(false);
      const layers = files.filter((f) =>
        /\/dist\/(flows|runs|listeners|connectors|connections|formats|transforms|scheduler|notifications|definitions)\//.test(
          f,
        ),
      );
      expect(layers, command.join(' ')).toEqual([]);
    }
  });
});
