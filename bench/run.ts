/**
 * Runs every benchmark script in bench/ in sequence, each as its own child process, streaming its
 * output. This is `npm run bench`.
 *   node --import tsx bench/run.ts [--quick] [--only flows,formats] [-- extra args for every script]
 * Scripts are found by file name: every bench/*.ts except this one and helper modules (names starting
 * with `_` or containing `helper`, `util`, `lib` or `common`). flows, connectors, formats and expressions
 * run first, any others after them in name order. A script that takes a row count says so in its usage
 * line (`bench/<name>.ts [rows]`, or `[messages]`); with --quick it gets QUICK_ROWS instead of its default. One that
 * takes a size (`bench/<name>.ts [megabytes]`) gets QUICK_MEGABYTES.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const QUICK_ROWS = 100_000;
const QUICK_MEGABYTES = 20;
const FIRST = ['flows', 'connectors', 'formats', 'expressions'];
const HELPER = /^_|helper|util|lib|common/i;

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const passThrough = dash >= 0 ? argv.slice(dash + 1) : [];
const quick = own.includes('--quick');
const onlyAt = own.indexOf('--only');
const only = onlyAt >= 0 ? new Set((own[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined;

function discover(): string[] {
  const names = readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts')
    .map((f) => basename(f, '.ts'))
    .filter((n) => !HELPER.test(n));
  const rank = (n: string) => (FIRST.includes(n) ? FIRST.indexOf(n) : FIRST.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** What the script's usage line says it takes first: a row count, a size in megabytes, or neither. */
function takes(name: string, what: 'rows' | 'messages' | 'megabytes'): boolean {
  const head = readFileSync(join(here, `${name}.ts`), 'utf8').slice(0, 2000);
  return new RegExp(`bench/${name}\\.ts \\[${what}\\]`).test(head);
}

function quickArgs(name: string): string[] {
  if (takes(name, 'rows') || takes(name, 'messages')) return [String(QUICK_ROWS)];
  if (takes(name, 'megabytes')) return [String(QUICK_MEGABYTES)];
  return [];
}

function runScript(name: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...args], {
      stdio: 'inherit',
    });
    p.on('error', (err) => {
      console.error(`${name}: ${err.message}`);
      resolve(1);
    });
    p.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const scripts = discover().filter((n) => !only || only.has(n));
if (only) {
  const unknown = [...only].filter((n) => !scripts.includes(n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; found: ${discover().join(', ')}`);
    process.exit(2);
  }
}
console.log(
  `benchmarks: ${scripts.join(', ')}${quick ? ` (quick: ${QUICK_ROWS.toLocaleString('en')} rows)` : ''}`,
);
const outcomes: { name: string; code: number; seconds: number }[] = [];
for (const name of scripts) {
  const args = [...(quick ? quickArgs(name) : []), ...passThrough];
  console.log(`\n=== bench/${name}.ts ${args.join(' ')}`.trimEnd());
  const t = performance.now();
  const code = await runScript(name, args);
  outcomes.push({ name, code, seconds: (performance.now() - t) / 1000 });
}
console.log('\n=== summary');
for (const o of outcomes)
  console.log(
    `${o.name.padEnd(14)} ${o.code === 0 ? 'ok' : `FAILED (exit ${o.code})`}  ${o.seconds.toFixed(0)} s`,
  );
process.exit(outcomes.some((o) => o.code !== 0) ? 1 : 0);
