/**
 * Flow benchmark: whole flows, defined through the definitions API and run through the run service,
 * against the native clients on the same machine in the same run.
 *   node --import tsx bench/flows.ts [rows] [--reps N] [--big] [--no-http] [--case <text>] [--cold]
 * rows defaults to 1,000,000; --reps (default 3) repeats every timed pair and reports the median;
 * --big adds the 10,000,000-row memory runs (CSV -> PostgreSQL, plain and with a mapping);
 * --big-only runs just those (and skips the HTTP part); --case runs only the cases whose name contains
 * the text (case-insensitive), e.g. --case xml. The flow's connectors open (their drivers' modules
 * load, once per process) before the timer starts; --cold times that first run's loading too.
 * Each flow runs in its own child process, so its wall time excludes Node start-up and its peak RSS
 * (getrusage maxRSS, cross-checked with /usr/bin/time when present) is that flow's alone.
 * Needs psql and mariadb on PATH and the test servers (see test/services.ts).
 * Writes the table to bench/results/flows.md (--big-only: bench/results/flows-big.md).
 */
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Row, RowStream } from '../src/core/records.js';
import { median } from './_stats.js';

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(dirname(SELF), 'results', 'flows.md');
const TIME_BIN = '/usr/bin/time';
const BATCH = 5000;
const CITIES = ['Zürich', 'New York', 'São Paulo', 'Tokyo, "East"', 'Paris'];
const BASE_MS = Date.UTC(2024, 0, 1);

const PG_COLUMNS = 'id int, name text, city text, amount numeric, created_at timestamptz, active boolean';
const PG_MAP_COLUMNS =
  'id int, customer text, town text, amount numeric, created_at timestamptz, active boolean, gross numeric';
const MY_DDL =
  'create table t (id int, name longtext, city longtext, amount decimal(12,2), created_at datetime(6), active boolean) default charset=utf8mb4';

/** The mapping of the issue: two columns renamed, one computed column, one filter (keeps 90%). */
const MAPPING = [
  { type: 'map', rename: { name: 'customer', city: 'town' }, compute: { gross: 'amount * 1.2' } },
  { type: 'filter', where: 'id % 10 != 0' },
];

// ---------------------------------------------------------------------------------------------------
// Child: one flow in a fresh in-process context.

interface ChildConfig {
  mode: 'flow';
  connections: Record<string, Record<string, unknown>>;
  flow: Record<string, unknown>;
  /** Time the first run's loading of the drivers too (by default they load before the timer starts). */
  cold?: boolean;
}

interface ChildResult {
  ms: number;
  /** Opening the flow's connectors before the timer: the drivers' modules load on first use. */
  openMs: number;
  /** CPU time (user + system, all threads) of the process during the timed run. */
  cpuMs: number;
  status: string;
  error: string | null;
  rowsRead: number;
  rowsWritten: number;
  paths: string[];
  rssBeforeMb: number;
  maxRssMb: number;
  timeMaxRssMb?: number;
}

async function newContext(dataDir: string, extra: Record<string, string> = {}) {
  const { loadSettings } = await import('../src/config.js');
  const { createContext } = await import('../src/context.js');
  const { createLogger } = await import('../src/core/logger.js');
  const settings = loadSettings({
    INTEGRATOR_DATA_DIR: dataDir,
    INTEGRATOR_DEMO: 'false',
    INTEGRATOR_ADMIN_PASSWORD: 'bench-password-1',
    INTEGRATOR_LOG_LEVEL: 'silent',
    ...extra,
  });
  return { settings, ctx: await createContext(settings, createLogger('silent')) };
}

/** The connections a transfer flow's steps read and write (not `@request` / `@response`). */
function flowConnections(flow: Record<string, unknown>): string[] {
  const names: string[] = [];
  const steps: unknown = flow.steps;
  for (const step of Array.isArray(steps) ? steps : []) {
    for (const side of ['from', 'to']) {
      const end: unknown = typeof step === 'object' && step !== null ? Reflect.get(step, side) : undefined;
      const name: unknown =
        typeof end === 'object' && end !== null ? Reflect.get(end, 'connection') : undefined;
      if (typeof name === 'string' && !name.startsWith('@') && !names.includes(name)) names.push(name);
    }
  }
  return names;
}

async function childFlow(config: ChildConfig): Promise<ChildResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'integrator-bench-ctx-'));
  const { ctx } = await newContext(dataDir);
  const by = { name: 'bench' };
  try {
    for (const [name, spec] of Object.entries(config.connections))
      await ctx.definitions.put('connection', name, spec, by);
    await ctx.definitions.put('flow', 'bench', config.flow, by);
    // A driver's modules load when its first connection opens, once per process. A server pays that on
    // its first run of the kind only; the timed run should measure the transfer, so they load here.
    const t1 = performance.now();
    if (!config.cold) {
      for (const name of flowConnections(config.flow)) await ctx.connectors.get(name);
    }
    const openMs = performance.now() - t1;
    global.gc?.();
    const rssBeforeMb = Math.round(process.memoryUsage().rss / 1048576);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const run = await ctx.runs.runSync({ flow: 'bench', trigger: 'cli', params: {} });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return {
      ms,
      openMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      status: run.status,
      error: run.error,
      rowsRead: run.rowsRead,
      rowsWritten: run.rowsWritten,
      paths: run.steps.map((s) => s.path ?? '?'),
      rssBeforeMb,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Child: the run API over real HTTP.

interface HttpResult {
  requests: number;
  transfer: Stats;
  sql: Stats;
  healthz: Stats;
  inProcess: Stats;
  maxRssMb: number;
}

interface Stats {
  median: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
  return {
    median: at(0.5),
    p99: at(0.99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
  };
}

async function childHttp(requests: number): Promise<HttpResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'integrator-bench-http-'));
  const { bootstrapAdmin } = await import('../src/context.js');
  const { buildApp } = await import('../src/server/app.js');
  const { featureModules } = await import('../src/server/modules.js');
  const { ctx } = await newContext(dataDir, { INTEGRATOR_HOST: '127.0.0.1', INTEGRATOR_PORT: '0' });
  await bootstrapAdmin(ctx, () => {});
  const modules = featureModules();
  for (const m of modules) await m.init?.(ctx);
  const app = await buildApp(
    ctx,
    modules.flatMap((m) => (m.routes ? [m.routes] : [])),
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const by = { name: 'bench' };
  try {
    await ctx.definitions.put('connection', 'lite_a', { type: 'sqlite', path: 'files/a.sqlite' }, by);
    await ctx.definitions.put('connection', 'lite_b', { type: 'sqlite', path: 'files/b.sqlite' }, by);
    const setup = async (conn: string, sql: string) => {
      await ctx.definitions.put('flow', `setup_${conn}`, { type: 'sql', connection: conn, sql }, by);
      const r = await ctx.runs.runSync({ flow: `setup_${conn}`, trigger: 'cli', params: {} });
      if (r.status !== 'succeeded') throw new Error(`setup ${conn}: ${r.error}`);
    };
    await setup('lite_a', "create table src (id integer, name text); insert into src values (1, 'one')");
    await setup('lite_b', 'create table dst (id integer, name text)');
    await ctx.definitions.put(
      'flow',
      'trivial',
      {
        type: 'transfer',
        steps: [
          {
            from: { connection: 'lite_a', table: 'src' },
            to: { connection: 'lite_b', table: 'dst', mode: 'replace' },
          },
        ],
      },
      by,
    );
    await ctx.definitions.put(
      'flow',
      'trivial_sql',
      { type: 'sql', connection: 'lite_a', sql: 'update src set name = name where id = 1' },
      by,
    );
    const login = await fetch(`${url}/rest/v1/token-auth/issue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'admin', password: 'bench-password-1' }),
    });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };

    const timed = async (n: number, call: () => Promise<void>): Promise<number[]> => {
      for (let i = 0; i < Math.min(50, n); i++) await call(); // warm-up
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await call();
        out.push(performance.now() - t);
      }
      return out;
    };
    const runFlow = (flow: string) => async () => {
      const res = await fetch(`${url}/plugins/flows/rest/v1/flows/flow-name/${flow}/run`, {
        method: 'POST',
        headers: auth,
      });
      const body = (await res.json()) as { status: number; exception?: string };
      if (res.status !== 200 || body.status !== 0)
        throw new Error(`${flow}: HTTP ${res.status} ${JSON.stringify(body)}`);
    };
    const transfer = await timed(requests, runFlow('trivial'));
    const sql = await timed(requests, runFlow('trivial_sql'));
    const healthz = await timed(requests, async () => {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
    });
    const inProcess = await timed(requests, async () => {
      const r = await ctx.runs.runSync({ flow: 'trivial', trigger: 'cli', params: {} });
      if (r.status !== 'succeeded') throw new Error(`in-process: ${r.error}`);
    });
    return {
      requests,
      transfer: stats(transfer),
      sql: stats(sql),
      healthz: stats(healthz),
      inProcess: stats(inProcess),
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await app.close();
    for (const m of [...modules].reverse()) await m.stop?.();
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Parent helpers.

/** Runs a command; resolves with its wall time in seconds, rejects with its stderr on failure. */
function sh(cmd: string): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn('bash', ['-c', `set -o pipefail; ${cmd}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const seconds = (performance.now() - t) / 1000;
      if (code === 0) resolve({ seconds, stdout });
      else reject(new Error(`${cmd}\nexit ${code}: ${stderr}`));
    });
  });
}

/** Runs this script as a child in the given mode; parses the RESULT line and /usr/bin/time's max RSS. */
function child<T>(args: string[]): Promise<T & { timeMaxRssMb?: number }> {
  // BENCH_NODE_ARGS adds Node options to each child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const node = [process.execPath, '--expose-gc', ...extra, '--import', 'tsx', SELF, ...args];
  const useTime = existsSync(TIME_BIN);
  const [cmd, ...rest] = useTime ? [TIME_BIN, '-f', 'TIME_MAXRSS_KB %M', ...node] : node;
  return new Promise((resolve, reject) => {
    const p = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`child ${args[0]} exited ${code}\n${stdout}\n${stderr}`));
        return;
      }
      const result = JSON.parse(line.slice(7)) as T & { timeMaxRssMb?: number };
      const kb = /TIME_MAXRSS_KB (\d+)/.exec(stderr)?.[1];
      if (kb) result.timeMaxRssMb = Math.round(Number(kb) / 1024);
      resolve(result);
    });
  });
}

function rowAt(i: number): Row {
  return {
    id: i,
    name: `name ${i}`,
    city: CITIES[i % CITIES.length],
    amount: (i % 100000) / 100,
    created_at: new Date(BASE_MS + i * 1000),
    active: i % 2 === 0,
  };
}

async function* rowBatches(count: number): RowStream {
  for (let i = 0; i < count; i += BATCH) {
    const b: Row[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) b.push(rowAt(j));
    yield b;
  }
}

/** CSV as psql, LOAD DATA and the engine all read it: timestamps without zone, booleans as 1/0. */
async function* csvChunks(count: number): AsyncGenerator<string> {
  yield 'id,name,city,amount,created_at,active\n';
  for (let i = 0; i < count; i += 10_000) {
    let s = '';
    for (let j = i; j < Math.min(count, i + 10_000); j++) {
      const city = CITIES[j % CITIES.length]!;
      const ts = new Date(BASE_MS + j * 1000).toISOString().replace('T', ' ').slice(0, 19);
      s += `${j},name ${j},${city.includes(',') ? `"${city.replaceAll('"', '""')}"` : city},${(j % 100000) / 100},${ts},${j % 2 === 0 ? 1 : 0}\n`;
    }
    yield s;
  }
}

async function writeFiles(dir: string, rows: number, big: boolean, others: boolean): Promise<void> {
  const { bindFormat } = await import('../src/formats/registry.js');
  await pipeline(Readable.from(csvChunks(rows)), createWriteStream(join(dir, 'data.csv')));
  if (big) await pipeline(Readable.from(csvChunks(10 * rows)), createWriteStream(join(dir, 'big.csv')));
  if (!others) return;
  await pipeline(
    Readable.from(bindFormat({ type: 'json' }).write(rowBatches(rows), {})),
    createWriteStream(join(dir, 'data.json')),
  );
  await pipeline(
    Readable.from(bindFormat({ type: 'xml' }).write(rowBatches(rows), {})),
    createWriteStream(join(dir, 'data.xml')),
  );
}

interface CaseResult {
  name: string;
  rows: number;
  engine: number[];
  baseline: number[];
  baselineName: string;
  target?: { kind: 'ratio'; max: number } | { kind: 'rate'; min: number };
  paths: string[];
  maxRssMb: number[];
  rssBeforeMb: number;
  timeMaxRssMb?: number;
  rowsWritten: number;
  checked: string;
}

// ---------------------------------------------------------------------------------------------------
// Parent.

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => argv.includes(name);
  const option = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const positional = argv.filter(
    (a, i) => !a.startsWith('--') && argv[i - 1] !== '--reps' && argv[i - 1] !== '--case',
  );
  const only = argv.includes('--case') ? argv[argv.indexOf('--case') + 1]?.toLowerCase() : undefined;
  const ROWS = Number(positional[0] ?? 1_000_000);
  const REPS = option('--reps', 3);
  const BIG_ONLY = flag('--big-only');
  const BIG = flag('--big') || BIG_ONLY;
  const HTTP = !flag('--no-http') && !BIG_ONLY;
  const COLD = flag('--cold');
  if (!Number.isInteger(ROWS) || ROWS < 10)
    throw new Error(`rows must be an integer >= 10, got ${positional[0]}`);

  const { createMariaDatabase, createPgDatabase } = await import('../test/services.js');
  const started = new Date();
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'integrator-bench-flows-'));
  console.log(
    `flows: ${ROWS.toLocaleString('en')} rows x 6 columns, ${REPS} rep(s), node ${process.version}, ` +
      `${cpus().length} cores, load ${load0.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const t = performance.now();
  await writeFiles(dir, ROWS, BIG, !BIG_ONLY);
  if (BIG_ONLY) console.log('--big-only: only the 10x-row runs');
  const mb = (f: string) => (existsSync(join(dir, f)) ? (statSync(join(dir, f)).size / 1e6).toFixed(1) : '–');
  console.log(
    `generated CSV ${mb('data.csv')} MB, JSON ${mb('data.json')} MB, XML ${mb('data.xml')} MB` +
      `${BIG ? `, big CSV ${mb('big.csv')} MB` : ''} in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`,
  );

  const a = await createPgDatabase('benchfa');
  const b = await createPgDatabase('benchfb');
  const my = await createMariaDatabase('benchf');
  const myUrl = new URL(my.url);
  const pgVersion = (await sh(`psql '${a.url}' -Atc 'show server_version'`)).stdout.trim();
  const myVersion = (
    await sh(`mariadb -h ${myUrl.hostname} -P ${myUrl.port || 3306} -u root -N -e 'select version()'`)
  ).stdout.trim();
  const psqlA = (sql: string) => sh(`psql '${a.url}' -qAtc "${sql}"`);
  const psqlB = (sql: string) => sh(`psql '${b.url}' -qAtc "${sql}"`);
  const maria = (sql: string) =>
    sh(
      `mariadb --local-infile=1 -h ${myUrl.hostname} -P ${myUrl.port || 3306} -u root -N ${my.name} -e "${sql}"`,
    );
  const countA = async (table: string) => Number((await psqlA(`select count(*) from ${table}`)).stdout);

  const results: CaseResult[] = [];
  try {
    for (const tbl of ['t_csv', 't_json', 't_xml', 'src', 't_big'])
      await psqlA(`create table ${tbl} (${PG_COLUMNS})`);
    for (const tbl of ['t_map', 't_big_map']) await psqlA(`create table ${tbl} (${PG_MAP_COLUMNS})`);
    await psqlB(`create table t_copy (${PG_COLUMNS})`);
    await maria(MY_DDL);
    await sh(`psql '${a.url}' -qc "\\copy src from '${join(dir, 'data.csv')}' csv header"`);
    await psqlA('vacuum analyze src');
    mkdirSync(join(dir, 'out'), { recursive: true });

    const connections = {
      pga: { type: 'postgres', url: a.url, poolSize: 4 },
      pgb: { type: 'postgres', url: b.url, poolSize: 4 },
      my: { type: 'mysql', url: my.url, poolSize: 4 },
      files: { type: 'files', root: dir },
    };
    const transfer = (
      from: Record<string, unknown>,
      to: Record<string, unknown>,
      transforms?: unknown[],
    ) => ({
      type: 'transfer',
      steps: [{ from, to, ...(transforms ? { transforms } : {}) }],
    });
    const runFlow = (flow: Record<string, unknown>) =>
      child<ChildResult>(['--child', JSON.stringify({ mode: 'flow', connections, flow, cold: COLD })]);
    const checkpoint = async () => {
      await psqlA('checkpoint');
      await psqlB('checkpoint');
    };

    const mapped = ROWS - Math.ceil(ROWS / 10);
    const LOAD = `LOAD DATA LOCAL INFILE '${join(dir, 'data.csv')}' INTO TABLE t CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\"' IGNORE 1 LINES`;
    const psqlIn = (table: string, file: string) =>
      sh(`psql '${a.url}' -qc "\\copy ${table} from '${join(dir, file)}' csv header"`);
    const lines = async (file: string) => Number((await sh(`wc -l < '${join(dir, file)}'`)).stdout.trim());

    interface CaseDef {
      name: string;
      rows: number;
      baselineName: string;
      target?: CaseResult['target'];
      reset: () => Promise<unknown>;
      baseline?: () => Promise<number>;
      flow: Record<string, unknown>;
      check: () => Promise<[number, number]>;
      reps?: number;
    }
    const cases: CaseDef[] = BIG_ONLY
      ? []
      : [
          {
            name: 'CSV file -> PostgreSQL',
            rows: ROWS,
            baselineName: 'psql \\copy t from file csv header',
            target: { kind: 'ratio', max: 1.3 },
            reset: () => psqlA('truncate t_csv'),
            baseline: async () => (await psqlIn('t_csv', 'data.csv')).seconds,
            flow: transfer({ connection: 'files', file: 'data.csv' }, { connection: 'pga', table: 't_csv' }),
            check: async () => [await countA('t_csv'), ROWS],
          },
          {
            name: 'CSV file -> PostgreSQL, mapping (2 renames, 1 computed, 1 filter)',
            rows: ROWS,
            baselineName: 'psql \\copy t from file csv header',
            target: { kind: 'ratio', max: 2.5 },
            reset: () => psqlA('truncate t_csv, t_map'),
            baseline: async () => (await psqlIn('t_csv', 'data.csv')).seconds,
            flow: transfer(
              { connection: 'files', file: 'data.csv' },
              { connection: 'pga', table: 't_map' },
              MAPPING,
            ),
            check: async () => [await countA('t_map'), mapped],
          },
          {
            name: 'PostgreSQL table -> PostgreSQL table (other database)',
            rows: ROWS,
            baselineName: 'psql \\copy to stdout | psql \\copy from stdin',
            target: { kind: 'ratio', max: 1.5 },
            reset: () => psqlB('truncate t_copy'),
            baseline: async () =>
              (
                await sh(
                  `psql '${a.url}' -qc "\\copy src to stdout csv header" | psql '${b.url}' -qc "\\copy t_copy from stdin csv header"`,
                )
              ).seconds,
            flow: transfer({ connection: 'pga', table: 'src' }, { connection: 'pgb', table: 't_copy' }),
            check: async () => [Number((await psqlB('select count(*) from t_copy')).stdout), ROWS],
          },
          {
            name: 'PostgreSQL table -> CSV file (mode replace)',
            rows: ROWS,
            baselineName: 'psql \\copy t to file csv header',
            target: { kind: 'ratio', max: 1.5 },
            reset: () => sh(`rm -f '${join(dir, 'out')}'/*.csv`),
            baseline: async () =>
              (await sh(`psql '${a.url}' -qc "\\copy src to '${join(dir, 'out', 'psql.csv')}' csv header"`))
                .seconds,
            flow: transfer(
              { connection: 'pga', table: 'src' },
              { connection: 'files', file: 'out/export.csv', mode: 'replace' },
            ),
            check: async () => [(await lines('out/export.csv')) - 1, ROWS],
          },
          {
            name: 'PostgreSQL table -> CSV file (default mode append, new file)',
            rows: ROWS,
            baselineName: 'psql \\copy t to file csv header',
            target: { kind: 'ratio', max: 1.5 },
            reset: () => sh(`rm -f '${join(dir, 'out')}'/*.csv`),
            baseline: async () =>
              (await sh(`psql '${a.url}' -qc "\\copy src to '${join(dir, 'out', 'psql.csv')}' csv header"`))
                .seconds,
            flow: transfer(
              { connection: 'pga', table: 'src' },
              { connection: 'files', file: 'out/export.csv' },
            ),
            check: async () => [(await lines('out/export.csv')) - 1, ROWS],
          },
          {
            name: 'CSV file -> MariaDB',
            rows: ROWS,
            baselineName: 'mariadb client LOAD DATA LOCAL INFILE',
            target: { kind: 'ratio', max: 1.5 },
            reset: () => maria('truncate t'),
            baseline: async () => (await maria(LOAD)).seconds,
            flow: transfer({ connection: 'files', file: 'data.csv' }, { connection: 'my', table: 't' }),
            check: async () => [Number((await maria('select count(*) from t')).stdout), ROWS],
          },
          {
            name: 'JSON array file -> PostgreSQL',
            rows: ROWS,
            baselineName: 'psql \\copy t from file csv header (same rows as CSV)',
            target: { kind: 'rate', min: 300_000 },
            reset: () => psqlA('truncate t_json, t_csv'),
            baseline: async () => (await psqlIn('t_csv', 'data.csv')).seconds,
            flow: transfer(
              { connection: 'files', file: 'data.json' },
              { connection: 'pga', table: 't_json' },
            ),
            check: async () => [await countA('t_json'), ROWS],
          },
          {
            name: 'XML file -> PostgreSQL',
            rows: ROWS,
            baselineName: 'psql \\copy t from file csv header (same rows as CSV)',
            target: { kind: 'rate', min: 300_000 },
            reset: () => psqlA('truncate t_xml, t_csv'),
            baseline: async () => (await psqlIn('t_csv', 'data.csv')).seconds,
            flow: transfer({ connection: 'files', file: 'data.xml' }, { connection: 'pga', table: 't_xml' }),
            check: async () => [await countA('t_xml'), ROWS],
          },
        ];
    if (BIG) {
      const big = 10 * ROWS;
      cases.push(
        {
          name: `CSV file -> PostgreSQL, ${big.toLocaleString('en')} rows`,
          rows: big,
          baselineName: 'psql \\copy t from file csv header',
          target: { kind: 'ratio', max: 1.3 },
          reset: () => psqlA('truncate t_big'),
          baseline: async () => (await psqlIn('t_big', 'big.csv')).seconds,
          flow: transfer({ connection: 'files', file: 'big.csv' }, { connection: 'pga', table: 't_big' }),
          check: async () => [await countA('t_big'), big],
          reps: 1,
        },
        {
          name: `CSV file -> PostgreSQL, mapping, ${big.toLocaleString('en')} rows`,
          rows: big,
          baselineName: 'psql \\copy t from file csv header',
          target: { kind: 'ratio', max: 3 },
          reset: () => psqlA('truncate t_big, t_big_map'),
          baseline: async () => (await psqlIn('t_big', 'big.csv')).seconds,
          flow: transfer(
            { connection: 'files', file: 'big.csv' },
            { connection: 'pga', table: 't_big_map' },
            MAPPING,
          ),
          check: async () => [await countA('t_big_map'), big - Math.ceil(big / 10)],
          reps: 1,
        },
      );
    }

    for (const c of cases) {
      if (only && !c.name.toLowerCase().includes(only)) continue;
      const r: CaseResult = {
        name: c.name,
        rows: c.rows,
        engine: [],
        baseline: [],
        baselineName: c.baselineName,
        ...(c.target ? { target: c.target } : {}),
        paths: [],
        maxRssMb: [],
        rssBeforeMb: 0,
        rowsWritten: 0,
        checked: '',
      };
      for (let rep = 0; rep < (c.reps ?? REPS); rep++) {
        if (c.baseline) {
          await c.reset();
          await checkpoint();
          r.baseline.push(await c.baseline());
        }
        await c.reset();
        await checkpoint();
        const out = await runFlow(c.flow);
        if (out.status !== 'succeeded') throw new Error(`${c.name}: run ${out.status}: ${out.error}`);
        const [got, want] = await c.check();
        if (got !== want) throw new Error(`${c.name}: destination has ${got} rows, expected ${want}`);
        r.checked = `${got.toLocaleString('en')} rows checked`;
        r.engine.push(out.ms / 1000);
        r.paths.push(...out.paths.filter((p) => !r.paths.includes(p)));
        r.maxRssMb.push(out.maxRssMb);
        r.rssBeforeMb = out.rssBeforeMb;
        if (out.timeMaxRssMb !== undefined) r.timeMaxRssMb = Math.max(r.timeMaxRssMb ?? 0, out.timeMaxRssMb);
        r.rowsWritten = out.rowsWritten;
        const base = r.baseline.at(-1);
        console.log(
          `  ${c.name} rep ${rep + 1}: engine ${(out.ms / 1000).toFixed(2)} s (CPU ${(out.cpuMs / 1000).toFixed(2)} s)` +
            `${base ? `, baseline ${base.toFixed(2)} s, ratio ${(out.ms / 1000 / base).toFixed(2)}x` : ''}` +
            `, path ${out.paths.join('+')}, peak RSS ${out.maxRssMb} MB` +
            (COLD
              ? ', drivers loaded in the timed run'
              : `, connectors opened in ${out.openMs.toFixed(0)} ms before`),
        );
      }
      await c.reset();
      results.push(r);
    }

    let http: (HttpResult & { timeMaxRssMb?: number }) | undefined;
    if (HTTP) {
      http = await child<HttpResult>(['--http', '500']);
      console.log(
        `  run API over HTTP, trivial transfer: median ${http.transfer.median.toFixed(2)} ms, p99 ${http.transfer.p99.toFixed(2)} ms`,
      );
    }

    const load1 = loadavg();
    const md = render(results, http, {
      rows: ROWS,
      reps: REPS,
      started,
      load0,
      load1,
      pgVersion,
      myVersion,
      wallSeconds: (performance.now() - t) / 1000,
    });
    const file = BIG_ONLY ? join(dirname(RESULTS), 'flows-big.md') : RESULTS;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, md);
    console.log(`\n${md}`);
    console.log(`written to ${file}`);
  } finally {
    await Promise.all([a.drop(), b.drop(), my.drop()]).catch((e: unknown) => console.error(e));
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Meta {
  rows: number;
  reps: number;
  started: Date;
  load0: number[];
  load1: number[];
  pgVersion: string;
  myVersion: string;
  wallSeconds: number;
}

function render(results: CaseResult[], http: HttpResult | undefined, meta: Meta): string {
  const f2 = (n: number) => n.toFixed(2);
  const lines: string[] = [];
  lines.push('# Flow benchmark results', '');
  lines.push(
    `${meta.started.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${meta.rows.toLocaleString('en')} rows × 6 columns, ` +
      `median of ${meta.reps} rep(s) (10M rows: 1 rep). Node ${process.version}, ${cpus().length} cores, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, PostgreSQL ${meta.pgVersion}, MariaDB ${meta.myVersion}. ` +
      `Load average ${meta.load0.map(f2).join('/')} at start, ${meta.load1.map(f2).join('/')} at end.`,
    '',
  );
  lines.push(
    '| flow | path | engine s | baseline s | ratio | target | met | rows/s | peak RSS MB |',
    '|---|---|--:|--:|--:|---|---|--:|--:|',
  );
  for (const r of results) {
    const e = median(r.engine);
    const bl = r.baseline.length ? median(r.baseline) : undefined;
    const ratio = bl ? e / bl : undefined;
    const rate = r.rows / e;
    let target = '';
    let met = '';
    if (r.target?.kind === 'ratio') {
      target = `≤ ${r.target.max}×`;
      met = ratio !== undefined && ratio <= r.target.max ? 'yes' : 'no';
    } else if (r.target?.kind === 'rate') {
      target = `≥ ${r.target.min.toLocaleString('en')} rows/s`;
      met = rate >= r.target.min ? 'yes' : 'no';
    }
    lines.push(
      `| ${r.name} | ${r.paths.join(', ')} | ${f2(e)} | ${bl ? f2(bl) : '–'} | ${ratio ? `${f2(ratio)}×` : '–'} | ${target} | ${met} | ${Math.round(rate).toLocaleString('en')} | ${Math.max(...r.maxRssMb)} |`,
    );
  }
  lines.push('', 'Baselines and every repetition (seconds), to show the spread on a shared machine:', '');
  lines.push(
    '| flow | baseline | baseline runs | engine runs | RSS before run MB | /usr/bin/time max RSS MB |',
  );
  lines.push('|---|---|---|---|--:|--:|');
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${r.baselineName.replaceAll('|', '\\|')} | ${r.baseline.map(f2).join(', ')} | ${r.engine.map(f2).join(', ')} | ${r.rssBeforeMb} | ${r.timeMaxRssMb ?? '–'} |`,
    );
  }
  if (http) {
    lines.push(
      '',
      `Run API over real HTTP (127.0.0.1, keep-alive fetch, ${http.requests} sequential requests after 50 warm-up, SQLite metadata store):`,
      '',
    );
    lines.push('| request | median ms | p99 ms | mean ms | min ms | max ms |', '|---|--:|--:|--:|--:|--:|');
    const row = (name: string, s: Stats) =>
      lines.push(
        `| ${name} | ${f2(s.median)} | ${f2(s.p99)} | ${f2(s.mean)} | ${f2(s.min)} | ${f2(s.max)} |`,
      );
    row('POST …/flow-name/trivial/run (1 row SQLite → SQLite, replace)', http.transfer);
    row('POST …/flow-name/trivial_sql/run (one UPDATE on SQLite)', http.sql);
    row('GET /healthz (HTTP floor)', http.healthz);
    row('ctx.runs.runSync(trivial) in-process, no HTTP', http.inProcess);
    lines.push('', `Target: median < 10 ms. Server process peak RSS ${http.maxRssMb} MB.`);
  }
  lines.push('', `Whole benchmark: ${meta.wallSeconds.toFixed(0)} s.`, '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------

const mode = process.argv[2];
if (mode === '--child') {
  const result = await childFlow(JSON.parse(process.argv[3]!) as ChildConfig);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else if (mode === '--http') {
  const result = await childHttp(Number(process.argv[3] ?? 500));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  await main();
}
