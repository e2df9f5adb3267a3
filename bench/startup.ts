/**
 * Start-up and command-line figures: `integrator --help`, `user list` and `audit verify` (wall time of
 * the whole process), `integrator start` to the first 200 from /readyz on a fresh data directory
 * (embedded SQLite store, demo project on), and the server's resident memory once idle. Each is run
 * several times; the median and the range are reported. The same sources run through tsx are the
 * baseline in the same run (how the launcher ran them before it compiled).
 *
 *   node --import tsx bench/startup.ts [--reps N] [--root DIR] [--no-tsx]
 *
 * --root runs another checkout's bin/integrator.js (e.g. an older commit, built) for comparison.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/helpers/processes.js';

const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const REPS = Number(option('--reps') ?? 7);
const root = resolve(option('--root') ?? join(import.meta.dirname, '..'));
const withTsx = !argv.includes('--no-tsx');

/** How a variant runs the CLI: the compiled launcher, or the TypeScript sources through tsx. */
interface Variant {
  name: string;
  command: (args: string[]) => string[];
}
const compiled: Variant = { name: 'compiled', command: (args) => [join(root, 'bin/integrator.js'), ...args] };
const tsx: Variant = {
  name: 'tsx',
  command: (args) => [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    `const m = await import(${JSON.stringify(join(root, 'src/cli/main.ts'))}); await m.main([process.argv[0], 'integrator', ...process.argv.slice(1)]);`,
    ...args,
  ],
};

const baseEnv = {
  ...process.env,
  INTEGRATOR_ADMIN_PASSWORD: 'bench-startup-password',
  INTEGRATOR_LOG_LEVEL: 'warn',
  INTEGRATOR_HOST: '127.0.0.1',
};

function exec(nodeArgs: string[], env: Record<string, string | undefined>): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, nodeArgs, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? done((performance.now() - started) / 1000)
        : fail(new Error(`${nodeArgs.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
}

/** Seconds from spawning `integrator start` to the first 200 from /readyz, and the RSS 3 s later. */
async function startToReady(variant: Variant): Promise<{ seconds: number; rss: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, variant.command(['start']), {
    cwd: root,
    env: { ...baseEnv, INTEGRATOR_DATA_DIR: dataDir, INTEGRATOR_PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise((done) => child.once('exit', done));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant.name} server exited at start`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    return { seconds, rss: rssMb(child.pid ?? 0) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function summary(values: number[], unit: string, digits: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  const f = (v: number | undefined) => (v ?? Number.NaN).toFixed(digits);
  return `${f(median)} ${unit} (${f(sorted[0])}–${f(sorted[sorted.length - 1])})`;
}

// A source checkout builds on start: build first so no timed run includes it.
await exec([join(root, 'bin/integrator.js'), '--version'], baseEnv);

console.log(`start-up and CLI, ${REPS} runs each, median (min–max); root ${root}`);
console.log(`${'case'.padEnd(24)} ${'variant'.padEnd(9)} figure`);
for (const variant of withTsx ? [compiled, tsx] : [compiled]) {
  const cliDir = mkdtempSync(join(tmpdir(), 'bench-startup-cli-'));
  const env = { ...baseEnv, INTEGRATOR_DATA_DIR: cliDir };
  try {
    // The first command creates and migrates the store; the timed ones find it ready.
    await exec(variant.command(['user', 'list']), env);
    for (const args of [['--help'], ['user', 'list'], ['audit', 'verify']]) {
      const times: number[] = [];
      for (let i = 0; i < REPS; i++) times.push(await exec(variant.command(args), env));
      console.log(
        `${`integrator ${args.join(' ')}`.padEnd(24)} ${variant.name.padEnd(9)} ${summary(times, 's', 2)}`,
      );
    }
  } finally {
    rmSync(cliDir, { recursive: true, force: true });
  }
  const ready: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const r = await startToReady(variant);
    ready.push(r.seconds);
    rss.push(r.rss);
  }
  console.log(`${'start to /readyz'.padEnd(24)} ${variant.name.padEnd(9)} ${summary(ready, 's', 2)}`);
  console.log(`${'idle RSS'.padEnd(24)} ${variant.name.padEnd(9)} ${summary(rss, 'MB', 0)}`);
}
