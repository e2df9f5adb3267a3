/**
 * Real `integrator start` processes for cluster tests: each gets its own data directory and port,
 * and shares whatever the caller puts in `env` (store URL, Redis URL, secret).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  role: string;
  url: string;
  proc: ChildProcess;
  pid: number;
  output(): string;
  /** Ends the process with the signal and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => done(port));
    });
    srv.on('error', fail);
  });
}

export async function startProcess(
  role: 'all' | 'api' | 'worker',
  env: Record<string, string>,
  dataDir?: string,
  /** Node options before the script (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), `integrator-${role}-`));
  const proc = spawn(process.execPath, [...nodeArgs, 'bin/integrator.js', 'start', '--role', role], {
    cwd: repo,
    env: {
      ...process.env,
      INTEGRATOR_DATA_DIR: dir,
      INTEGRATOR_PORT: String(port),
      INTEGRATOR_HOST: '127.0.0.1',
      INTEGRATOR_DEMO: 'false',
      INTEGRATOR_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  // A process that fails to start is not left behind: it is killed (and its own data directory removed).
  const abandon = async (message: string): Promise<never> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    if (!dataDir) rmSync(dir, { recursive: true, force: true });
    throw new Error(`${message}:\n${out}`);
  };
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) await abandon(`${role} process exited at start`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) await abandon(`${role} process did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    role,
    url,
    proc,
    pid: proc.pid ?? 0,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client for one process's REST API, logged in as admin. */
export async function apiClient(url: string, password: string) {
  const res = await fetch(`${url}/rest/v1/token-auth/issue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return { token, call };
}
