/**
 * Start-up and command-line figures: `integrator --help`, `user list` and `audit verify` (wall and CPU
 * time of the whole process), `integrator start` to the first 200 from /readyz on a fresh data
 * directory (embedded SQLite store, demo project on; wall time, and the CPU time the process used until
 * then), and the server's resident memory once idle. Each is run several times, the variants taking
 * turns so that a change in the machine's load falls on both; the median and the range are reported.
 * The same sources run through tsx are the baseline in the same run (how the launcher ran them before
 * it compiled). CPU time is the steadier figure on a shared machine.
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

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a live process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

interface Timing {
  wall: number;
  cpu: number;
}

/** Runs node with the arguments to completion; wall time, and CPU time read from `/usr/bin/time`. */
function exec(nodeArgs: string[], env: Record<string, string | undefined>): Promise<Timing> {
  const timeFile = join(tmpdir(), `bench-startup-time-${process.pid}`);
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, ...nodeArgs], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      if (code !== 0) return fail(new Error(`${nodeArgs.join(' ')} exited ${code}: ${stderr}`));
      const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
      done({ wall, cpu: (user ?? 0) + (sys ?? 0) });
    });
  });
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
}

/**
 * Spawning `integrator start` to the first 200 from /readyz (wall and CPU), then the resident memory
 * 3 s later and once the process has been idle for 15 s (V8's memory reducer compacts the heap of an
 * idle process after about 8 s and gives pages back).
 */
async function startToReady(variant: Variant): Promise<Timing & { rss: number; idleRss: number }> {
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
    const wall = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(child.pid ?? 0);
    await new Promise((r) => setTimeout(r, 3000));
    const rss = rssMb(child.pid ?? 0);
    await new Promise((r) => setTimeout(r, 12_000));
    return { wall, cpu, rss, idleRss: rssMb(child.pid ?? 0) };
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

const variants = withTsx ? [compiled, tsx] : [compiled];
const CASES = [['--help'], ['user', 'list'], ['audit', 'verify']];
const figures = new Map<string, number[]>();
const record = (key: string, value: number) => figures.set(key, [...(figures.get(key) ?? []), value]);

const dirs = new Map(variants.map((v) => [v.name, mkdtempSync(join(tmpdir(), 'bench-startup-cli-'))]));
const envOf = (v: Variant) => ({ ...baseEnv, INTEGRATOR_DATA_DIR: dirs.get(v.name) });
try {
  // The first command creates and migrates the store; the timed ones find it ready.
  for (const v of variants) await exec(v.command(['user', 'list']), envOf(v));
  for (let i = 0; i < REPS; i++) {
    for (const v of variants) {
      for (const args of CASES) {
        const t = await exec(v.command(args), envOf(v));
        record(`integrator ${args.join(' ')}|${v.name}|wall`, t.wall);
        record(`integrator ${args.join(' ')}|${v.name}|cpu`, t.cpu);
      }
      const r = await startToReady(v);
      record(`start to /readyz|${v.name}|wall`, r.wall);
      record(`start to /readyz|${v.name}|cpu`, r.cpu);
      record(`RSS 3 s after ready|${v.name}|rss`, r.rss);
      record(`idle RSS (15 s)|${v.name}|rss`, r.idleRss);
    }
  }
} finally {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
}

const RSS_CASES = ['RSS 3 s after ready', 'idle RSS (15 s)'];
console.log(`start-up and CLI, ${REPS} runs each, median (min–max); root ${root}`);
console.log(`${'case'.padEnd(24)} ${'variant'.padEnd(9)} ${'wall'.padEnd(22)} cpu`);
for (const name of [...CASES.map((a) => `integrator ${a.join(' ')}`), 'start to /readyz', ...RSS_CASES]) {
  for (const v of variants) {
    const cells = RSS_CASES.includes(name)
      ? [summary(figures.get(`${name}|${v.name}|rss`) ?? [], 'MB', 0)]
      : [
          summary(figures.get(`${name}|${v.name}|wall`) ?? [], 's', 2).padEnd(22),
          summary(figures.get(`${name}|${v.name}|cpu`) ?? [], 's', 2),
        ];
    console.log(`${name.padEnd(24)} ${v.name.padEnd(9)} ${cells.join(' ')}`);
  }
}
