/**
 * Listener throughput: 50 connections, small JSON body, bearer token, against the real PostgreSQL.
 *   node --import tsx bench/listeners.ts [seconds] [--no-baselines] [--scenario floor|echo|sync|async|get]
 * Measures, in one run: a sync listener inserting one row, an async listener accepting payloads, a GET
 * data API returning one row; and two baselines doing the same insert: a minimal Fastify route with `pg`
 * (the ceiling of this stack) and Node-RED (installed from npm into a temporary folder), if it installs.
 * Two more scenarios split the server's own cost: `GET /healthz` (the HTTP floor of the app) and a sync
 * listener that answers with the rows it was sent (the listener and run path without any database
 * write but the run record and audit trail).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { loadSettings } from '../src/config.js';
import { bootstrapAdmin, createContext } from '../src/context.js';
import { createLogger } from '../src/core/logger.js';
import { buildApp } from '../src/server/app.js';
import { featureModules } from '../src/server/modules.js';
import { createPgDatabase } from '../test/services.js';

const SECONDS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 10);
const ONLY = process.argv.includes('--scenario')
  ? process.argv[process.argv.indexOf('--scenario') + 1]
  : undefined;
/** `--scenario` runs one scenario of the server under test (for profiling it), without the baselines. */
const BASELINES = !process.argv.includes('--no-baselines') && ONLY === undefined;
const runs = (scenario: 'floor' | 'echo' | 'sync' | 'async' | 'get') =>
  ONLY === undefined || ONLY === scenario;
const CONNECTIONS = 50;

interface Result {
  name: string;
  rps: number;
  /** CPU time this process spent per request (the server under test, or the in-process baseline). */
  cpuMs?: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

let nextId = 1_000_000;

/** Runs the load generator in its own process (bench/_load.ts) and returns its summary. */
async function load(
  name: string,
  url: string,
  opts: { method?: 'POST'; headers: Record<string, string> },
  inProcess = true,
): Promise<Result> {
  const firstId = nextId;
  nextId += 10_000_000;
  const args = JSON.stringify({
    url,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    seconds: SECONDS,
    connections: CONNECTIONS,
    firstId,
  });
  const cpuBefore = process.cpuUsage();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '_load.ts'), args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`load generator exited ${code}`)),
    );
  });
  const { total, ...summary } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Omit<Result, 'name'> & {
    total: number;
  };
  const cpu = process.cpuUsage(cpuBefore);
  const result: Result = { name, ...summary };
  if (inProcess && total > 0) result.cpuMs = Number(((cpu.user + cpu.system) / 1000 / total).toFixed(3));
  console.log(JSON.stringify(result));
  return result;
}

async function main(): Promise<void> {
  const store = await createPgDatabase('bench_store');
  const target = await createPgDatabase('bench_target');
  const pool = new pg.Pool({ connectionString: target.url, max: 10 });
  await pool.query('create table patient (patientid bigint primary key, name text, birthdate text)');
  await pool.query("insert into patient values (1, 'Ada', '1984-03-09')");
  const dataDir = mkdtempSync(join(tmpdir(), 'integrator-bench-'));
  const ctx = await createContext(
    loadSettings({
      INTEGRATOR_DATA_DIR: dataDir,
      INTEGRATOR_DATABASE_URL: store.url,
      INTEGRATOR_ADMIN_PASSWORD: 'bench-password',
      INTEGRATOR_DEMO: 'false',
      ...(process.env.INTEGRATOR_WORKERS ? { INTEGRATOR_WORKERS: process.env.INTEGRATOR_WORKERS } : {}),
    }),
    createLogger('warn'),
  );
  await bootstrapAdmin(ctx, () => {});
  const modules = featureModules();
  for (const m of modules) await m.init?.(ctx);
  const app = await buildApp(
    ctx,
    modules.flatMap((m) => (m.routes ? [m.routes] : [])),
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const sys = { name: 'bench' };
  await ctx.definitions.put('connection', 'pg', { type: 'postgres', url: target.url }, sys);
  const steps = (from: object, to: object) => ({ type: 'transfer', steps: [{ from, to }] });
  await ctx.definitions.put(
    'flow',
    'in',
    steps({ connection: '@request' }, { connection: 'pg', table: 'patient' }),
    sys,
  );
  await ctx.definitions.put(
    'flow',
    'out',
    {
      ...steps(
        { connection: 'pg', query: 'select * from patient where patientid = {id}' },
        { connection: '@response' },
      ),
      parameters: { id: { type: 'integer' } },
    },
    sys,
  );
  await ctx.definitions.put('listener', 'in', { path: 'bench/in', flow: 'in' }, sys);
  await ctx.definitions.put(
    'flow',
    'echo',
    steps({ connection: '@request' }, { connection: '@response' }),
    sys,
  );
  await ctx.definitions.put('listener', 'echo', { path: 'bench/echo', flow: 'echo' }, sys);
  await ctx.definitions.put(
    'listener',
    'queue',
    { path: 'bench/queue', flow: 'in', mode: 'async', queueLimit: 1e9 },
    sys,
  );
  await ctx.definitions.put(
    'listener',
    'out',
    { path: 'bench/out/{id}', methods: ['GET'], flow: 'out', response: { single: true } },
    sys,
  );
  const user = await ctx.users.create({ login: 'app', password: 'app-password-1', role: 'api' }, sys);
  void user;
  const { token } = await ctx.auth.login('app', 'app-password-1', '127.0.0.1');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const results: Result[] = [];
  const post = { method: 'POST' as const, headers };
  if (runs('floor'))
    results.push(await load('integrator GET /healthz (HTTP floor)', `${base}/healthz`, { headers }));
  if (runs('echo'))
    results.push(
      await load('integrator sync echo, no database', `${base}/rest/v1/httplistener/bench/echo`, post),
    );
  if (runs('sync'))
    results.push(await load('integrator sync insert', `${base}/rest/v1/httplistener/bench/in`, post));
  let drained = { backlog: 0, seconds: 0, runsPerSecond: 0 };
  if (runs('async')) {
    results.push(await load('integrator async accept', `${base}/rest/v1/httplistener/bench/queue`, post));
    // The accepted payloads are still being processed: measure how long that takes, and let it finish so
    // that nothing else competes with the next scenarios.
    drained = await drain(ctx, store.url);
    console.log(JSON.stringify({ name: 'async backlog processed', ...drained }));
  }
  if (runs('get'))
    results.push(
      await load('integrator GET one row', `${base}/rest/v1/httplistener/bench/out/1`, { headers }),
    );
  // The server under test stops before the baselines run, so they have the machine to themselves.
  await app.close();
  for (const m of [...modules].reverse()) await m.stop?.();
  await ctx.close();

  if (BASELINES) {
    // Baseline: the same insert in a hand-written Fastify route with pg, no auth, audit or run records.
    const plain = Fastify();
    plain.post('/in', async (request) => {
      const body = request.body as { patientid: number; name: string };
      await pool.query('insert into patient (patientid, name) values ($1, $2)', [body.patientid, body.name]);
      return { ok: true };
    });
    const plainUrl = await plain.listen({ port: 0, host: '127.0.0.1' });
    results.push(await load('fastify + pg insert', `${plainUrl}/in`, post));
    await plain.close();

    const red = await nodeRed(target.url).catch((err: unknown) => {
      console.log(`Node-RED baseline skipped: ${String(err)}`);
      return undefined;
    });
    if (red) {
      results.push(await load('node-red insert', `${red.url}/in`, post, false));
      red.stop();
    }
  }

  await pool.end();
  await store.drop();
  await target.drop();
  rmSync(dataDir, { recursive: true, force: true });

  const ceiling = results.find((r) => r.name.startsWith('fastify'));
  const redResult = results.find((r) => r.name.startsWith('node-red'));
  const lines = [
    '| Scenario | req/s | p50 ms | p99 ms | errors | non-2xx | server CPU ms/request |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) => `| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.cpuMs ?? '–'} |`,
    ),
    '',
    `Async backlog left when the load stopped: ${drained.backlog} runs, processed in ${drained.seconds} s (${drained.runsPerSecond} runs/s).`,
  ];
  const sync = results.find((r) => r.name === 'integrator sync insert');
  const accept = results.find((r) => r.name === 'integrator async accept');
  if (sync && ceiling) lines.push(`sync insert / fastify+pg: ${(sync.rps / ceiling.rps).toFixed(2)}x`);
  if (sync && redResult) lines.push(`sync insert / node-red: ${(sync.rps / redResult.rps).toFixed(2)}x`);
  if (accept && redResult) lines.push(`async accept / node-red: ${(accept.rps / redResult.rps).toFixed(2)}x`);
  console.log(`\n${lines.join('\n')}`);
  if (ONLY !== undefined) return;
  const header = [
    '# Listener benchmark',
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — \`node --import tsx bench/listeners.ts ${SECONDS}\`: ` +
      `${CONNECTIONS} connections, ${SECONDS} s per scenario, Node ${process.version}, ${cpus().length} cores, ` +
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join('/')}.`,
    '',
  ];
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'listeners.md'),
    `${[...header, ...lines].join('\n')}\n`,
  );
}

/** Waits until no listener run is queued or running; returns the backlog it found and how fast it went. */
async function drain(
  ctx: Awaited<ReturnType<typeof createContext>>,
  storeUrl: string,
): Promise<{ backlog: number; seconds: number; runsPerSecond: number }> {
  const client = new pg.Client({ connectionString: storeUrl });
  await client.connect();
  const waiting = async () =>
    Number(
      (
        await client.query(
          "select count(*) as n from runs where trigger = 'listener' and status in ('queued', 'running')",
        )
      ).rows[0].n,
    );
  const started = performance.now();
  const backlog = await waiting();
  while ((await waiting()) > 0 && performance.now() - started < 300_000) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await ctx.audit.drain();
  await client.end();
  const seconds = (performance.now() - started) / 1000;
  return { backlog, seconds: Number(seconds.toFixed(1)), runsPerSecond: Math.round(backlog / seconds) };
}

/**
 * Installs Node-RED into a temporary folder and runs http-in → function → http-response, where the
 * function node inserts with `pg` (Node-RED's external modules in function nodes; the PostgreSQL node
 * package is not in our registry), using one pool kept in global context.
 */
async function nodeRed(targetUrl: string): Promise<{ url: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-node-red-'));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', 'node-red@4', 'pg@8'], {
    cwd: dir,
    stdio: 'ignore',
    timeout: 300_000,
  });
  const port = 18800 + Math.floor(Math.random() * 1000);
  writeFileSync(
    join(dir, 'settings.js'),
    `module.exports = { uiPort: ${port}, flowFile: 'flows.json', functionGlobalContext: { pg: require(${JSON.stringify(join(dir, 'node_modules/pg'))}) }, logging: { console: { level: 'warn' } } };`,
  );
  const func = [
    "let pool = global.get('pool');",
    `if (!pool) { pool = new (global.get('pg').Pool)({ connectionString: ${JSON.stringify(targetUrl)}, max: 10 }); global.set('pool', pool); }`,
    "await pool.query('insert into patient (patientid, name) values ($1, $2)', [msg.payload.patientid, msg.payload.name]);",
    'msg.payload = { ok: true };',
    'return msg;',
  ].join('\n');
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'in', z: 'tab', type: 'http in', url: '/in', method: 'post', wires: [['fn']] },
    { id: 'fn', z: 'tab', type: 'function', func, outputs: 1, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'http response', statusCode: '200', wires: [] },
  ];
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  const child = spawn(
    process.execPath,
    [join(dir, 'node_modules/node-red/red.js'), '--userDir', dir, '--settings', join(dir, 'settings.js')],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${url}/in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patientid: -1 - i, name: 'probe' }),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { url, stop };
    await new Promise((r) => setTimeout(r, 300));
  }
  stop();
  throw new Error('Node-RED did not answer');
}

await main();
process.exit(0);
