/**
 * HTTP API benchmark: a paginated JSON API into a PostgreSQL table, through a flow (an http connection
 * paging `?page=N&per_page=1000` to a postgres one, run by the run service) against a bare script in the
 * same run (bench/_http-bare.ts: undici, the same pages one at a time, JSON.parse, COPY FROM STDIN).
 *   node --import tsx bench/http.ts [rows] [--reps N] [--page-size N]
 * rows defaults to 500,000, --page-size to 1,000, --reps (default 3) repeats each side and reports the
 * median and the range. The API (bench/_http-api.ts) runs in its own process with every page rendered
 * up front; the flow runs in this process, the bare script in a child of its own. Both sides alternate
 * which goes first; the table is truncated and CHECKPOINTed before every run. Writes
 * bench/results/http.md. BENCH_PROFILE=flow.cpuprofile writes a CPU profile of the flow's last run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPgDatabase } from '../test/services.js';
import { median } from './_stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(here, 'results', 'http.md');
const COLUMNS = 'id bigint, name text, city text, amount numeric, created_at timestamp, active boolean';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const REPS = option('--reps', 3);
const PAGE = option('--page-size', 1000);
const ROWS = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 500_000);

function child(script: string, arg: unknown) {
  return spawn(process.execPath, ['--import', 'tsx', join(here, script), JSON.stringify(arg)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Runs a child to its end and parses the last JSON line it printed. */
function runChild<T>(script: string, arg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = child(script, arg);
    p.stdin.end();
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as T);
    });
  });
}

/** BENCH_PROFILE=file.cpuprofile: a CPU profile of the flow's runs only (the last one is kept). */
async function startProfile(): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.BENCH_PROFILE ?? 'flow.cpuprofile', JSON.stringify(profile));
    session.disconnect();
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<void> {
  const load0 = loadavg();
  const api = child('_http-api.ts', { rows: ROWS, pageSize: PAGE });
  const port = await new Promise<number>((resolve, reject) => {
    api.on('error', reject);
    api.on('close', (code) => reject(new Error(`the API exited ${code}`)));
    createInterface({ input: api.stdout }).once('line', (line) => {
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  const db = await createPgDatabase('bench_http');
  const work = mkdtempSync(join(tmpdir(), 'integrator-bench-http-'));
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    const apiUrl = `http://127.0.0.1:${port}`;
    await pool.query(`create table t (${COLUMNS})`);
    console.log(
      `${ROWS.toLocaleString('en')} records in pages of ${PAGE.toLocaleString('en')}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`,
    );

    const { loadSettings } = await import('../src/config.js');
    const { createContext } = await import('../src/context.js');
    const { createLogger } = await import('../src/core/logger.js');
    const ctx = await createContext(
      loadSettings({
        INTEGRATOR_DATA_DIR: join(work, 'data'),
        INTEGRATOR_DEMO: 'false',
        INTEGRATOR_ADMIN_PASSWORD: 'bench-password-1',
        INTEGRATOR_LOG_LEVEL: 'silent',
      }),
      createLogger('silent'),
    );
    const by = { name: 'bench' };
    await ctx.definitions.put('connection', 'api', { type: 'http', baseUrl: apiUrl }, by);
    await ctx.definitions.put('connection', 'pg', { type: 'postgres', url: db.url }, by);
    await ctx.definitions.put(
      'flow',
      'bench',
      {
        type: 'transfer',
        steps: [
          {
            from: {
              connection: 'api',
              request: {
                path: 'items',
                records: 'data',
                pagination: { type: 'page', size: PAGE, sizeParam: 'per_page' },
              },
            },
            to: { connection: 'pg', table: 't' },
          },
        ],
      },
      by,
    );
    await ctx.connectors.get('api');
    await ctx.connectors.get('pg');

    const reset = async () => {
      await pool.query('truncate t');
      await pool.query('checkpoint');
    };
    const count = async () => Number((await pool.query('select count(*) as n from t')).rows[0]?.n);
    const baseline = () =>
      runChild<{ seconds: number; cpuSeconds: number; rows: number; maxRssMb: number }>('_http-bare.ts', {
        url: `${apiUrl}/items`,
        pgUrl: db.url,
        pageSize: PAGE,
      });
    const flow = async () => {
      const profile = process.env.BENCH_PROFILE ? await startProfile() : undefined;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const run = await ctx.runs.runSync({ flow: 'bench', trigger: 'cli', params: {} });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      await profile?.();
      if (run.status !== 'succeeded') throw new Error(`flow failed: ${run.error}`);
      return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, path: run.steps[0]?.path ?? '?' };
    };

    const base: { seconds: number; cpuSeconds: number; maxRssMb: number }[] = [];
    const ours: { seconds: number; cpuSeconds: number; path: string }[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ['baseline', 'flow'] : ['flow', 'baseline'];
      for (const side of order) {
        await reset();
        if (side === 'baseline') base.push(await baseline());
        else ours.push(await flow());
        const n = await count();
        if (n !== ROWS) throw new Error(`${side}: ${n} rows in t, expected ${ROWS}`);
        const last = side === 'baseline' ? base.at(-1) : ours.at(-1);
        const s = last?.seconds ?? 0;
        console.log(
          `  rep ${rep + 1} ${side.padEnd(8)} ${s.toFixed(2)} s  ${fmt(ROWS / s)} records/s  CPU ${last?.cpuSeconds.toFixed(2)} s`,
        );
      }
    }
    await ctx.close();
    const rate = (s: number) => ROWS / s;
    const b = median(base.map((x) => x.seconds));
    const o = median(ours.map((x) => x.seconds));
    const ratios = ours.map((x, i) => rate(x.seconds) / rate(base[i]?.seconds ?? x.seconds));
    const load1 = loadavg();
    const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const lines = [
      `# HTTP API benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `${ROWS.toLocaleString('en')} JSON records in pages of ${PAGE.toLocaleString('en')} from a local API into PostgreSQL, median of ${REPS}; load average ${load0[0]?.toFixed(2)} at the start, ${load1[0]?.toFixed(2)} at the end.`,
      '',
      '| case | baseline (undici + JSON.parse + COPY) | Integrator (http → postgres flow) | ratio (records/s, ours ÷ baseline) | path |',
      '|---|---|---|---|---|',
      `| paginated JSON → PostgreSQL | ${b.toFixed(2)} s, ${fmt(rate(b))} records/s | ${o.toFixed(2)} s, ${fmt(rate(o))} records/s | ${(rate(o) / rate(b)).toFixed(2)}× (per repetition ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×) | ${ours[0]?.path} |`,
      '',
      `Every repetition: baseline ${base.map((x) => x.seconds.toFixed(2)).join(', ')} s; flow ${ours.map((x) => x.seconds.toFixed(2)).join(', ')} s. CPU time of the client process (median): baseline ${median(base.map((x) => x.cpuSeconds)).toFixed(2)} s, flow ${median(ours.map((x) => x.cpuSeconds)).toFixed(2)} s (the API and PostgreSQL not counted). Peak RSS: the bench process (the flow) ${maxRssMb} MB, the bare script ${Math.max(...base.map((x) => x.maxRssMb))} MB.`,
      '',
    ];
    console.log(`\n${lines.join('\n')}`);
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, lines.join('\n'));
  } finally {
    await pool.end();
    api.removeAllListeners('close');
    api.stdin.end();
    api.kill();
    rmSync(work, { recursive: true, force: true });
    await db.drop();
  }
}

await main().catch((err: unknown) => {
  // The message and where, not a dump of the error's sockets and clients.
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
