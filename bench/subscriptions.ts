/**
 * Subscription benchmark: small JSON messages (`{"id":n,"name":"name n","amount":12.34}`, about 45
 * bytes) pre-filled into a durable RabbitMQ queue and a NATS JetStream stream, consumed into a
 * PostgreSQL table, by an Integrator server (a real `integrator start` process, SQLite store, a
 * subscription and a transfer flow `@message` → postgres) against a bare consumer script in its own
 * process (bench/_subscriptions-bare.ts: the same client libraries, the same batch size, linger and
 * concurrency, one multi-row INSERT per batch through pg, acks after the commit), in the same run.
 *   node --import tsx bench/subscriptions.ts [messages] [--reps N] [--only rabbitmq,nats] [--configs 100x1,1000x2]
 * messages defaults to BENCH_SUBSCRIPTION_MESSAGES or 1,000,000; --reps (default 3); a config is
 * `batchSize x concurrency`. Integrator's time runs from the subscription's PUT to the moment the table
 * holds every message (polled every 50 ms); the bare side's from its first consume to its last ack.
 * Every run gets a fresh queue or stream and table, checked after it (every id once, nothing left
 * unacked) and removed. Peak RSS: the bare process's maxRSS, the server's VmHWM (a fresh server per run).
 * `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` passes node options to the server's command line (profiling).
 * Writes bench/results/subscriptions.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import pg from 'pg';
import { apiClient, startProcess } from '../test/helpers/processes.js';
import { createPgDatabase } from '../test/services.js';
import { median, range } from './_stats.js';
import type { BareTarget } from './_subscriptions-bare.js';

type Broker = 'rabbitmq' | 'nats';
const here = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(here, 'results', 'subscriptions.md');
const PASSWORD = 'bench-admin-password';
const args = process.argv.slice(2);
const opt = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const REPS = Number(opt('--reps') ?? 3);
const positional = args.filter((a, i) => /^\d+$/.test(a) && !(args[i - 1] ?? '').startsWith('--'));
const N = Number(positional[0] ?? process.env.BENCH_SUBSCRIPTION_MESSAGES ?? 1_000_000);
const brokers = (opt('--only') ?? 'rabbitmq,nats').split(',') as Broker[];
const configs = (opt('--configs') ?? '100x1,1000x2').split(',').map((c) => {
  const [b, k] = c.split('x').map(Number);
  return { batch: b ?? 100, concurrency: k ?? 1 };
});
const RABBIT = 'amqp://guest:guest@127.0.0.1:5672';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const body = (n: number) => Buffer.from(JSON.stringify({ id: n, name: `name ${n}`, amount: 12.34 }));

interface Run {
  seconds: number;
  rssMb: number;
}

async function rabbit<T>(fn: (ch: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(RABBIT);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    return await fn(ch);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Creates the queue or stream `name` holding N messages. */
async function fill(broker: Broker, name: string): Promise<void> {
  if (broker === 'rabbitmq') {
    await rabbit(async (ch) => {
      await ch.assertQueue(name, { durable: true, autoDelete: false });
      for (let i = 1; i <= N; i++) {
        ch.sendToQueue(name, body(i), {
          messageId: `m-${i}`,
          persistent: true,
          contentType: 'application/json',
        });
        if (i % 1000 === 0) await ch.waitForConfirms();
      }
      await ch.waitForConfirms();
    });
    return;
  }
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    const js = jetstream(nc);
    let pending: Promise<unknown>[] = [];
    for (let i = 1; i <= N; i++) {
      pending.push(js.publish(`${name}.m`, body(i)));
      if (pending.length >= 1000) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  } finally {
    await nc.close();
  }
}

/** Messages still in the queue or not acked by the stream's consumers. */
async function left(broker: Broker, name: string): Promise<number> {
  if (broker === 'rabbitmq') return (await rabbit((ch) => ch.checkQueue(name))).messageCount;
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    let n = 0;
    for await (const c of jsm.consumers.list(name)) n += c.num_pending + c.num_ack_pending;
    return n;
  } finally {
    await nc.close();
  }
}

async function remove(broker: Broker, name: string): Promise<void> {
  if (broker === 'rabbitmq') {
    await rabbit((ch) => ch.deleteQueue(name)).catch(() => undefined);
    return;
  }
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  await (await jetstreamManager(nc)).streams.delete(name).catch(() => undefined);
  await nc.close();
}

function bare(t: BareTarget): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, '_subscriptions-bare.ts'), JSON.stringify(t)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as Run);
      else reject(new Error(`bare ${t.broker} exited ${code}: ${out}`));
    });
  });
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function integrator(
  broker: Broker,
  source: string,
  dbUrl: string,
  table: string,
  cfg: { batch: number; concurrency: number },
  db: pg.Pool,
): Promise<Run & { idleMb: number }> {
  const nodeArgs = process.env.BENCH_NODE_ARGS;
  const server = await startProcess(
    'all',
    { INTEGRATOR_ADMIN_PASSWORD: PASSWORD },
    undefined,
    nodeArgs ? nodeArgs.split(' ').filter(Boolean) : [],
  );
  try {
    const { call } = await apiClient(server.url, PASSWORD);
    const put = async (path: string, spec: object) => {
      const r = await call('PUT', `/rest/v1/${path}`, spec);
      if (r.status >= 300) throw new Error(`PUT ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    };
    await put('connections/pg', { type: 'postgres', url: dbUrl });
    await put(
      'connections/broker',
      broker === 'rabbitmq'
        ? { type: 'rabbitmq', url: RABBIT }
        : { type: 'nats', url: 'nats://127.0.0.1:4222' },
    );
    await put('flows/land', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@message' },
          transforms: [{ type: 'map', select: ['id', 'name', 'amount'] }],
          to: { connection: 'pg', table },
        },
      ],
    });
    const idleMb = peakRssMb(server.pid);
    const t0 = performance.now();
    await put('subscriptions/land', {
      connection: 'broker',
      ...(broker === 'rabbitmq' ? { queue: source } : { stream: source }),
      flow: 'land',
      batchSize: cfg.batch,
      concurrency: cfg.concurrency,
    });
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const n = (await db.query<{ n: number }>(`select count(*)::int n from ${table}`)).rows[0]?.n ?? 0;
      if (n >= N) break;
      if (Date.now() > deadline) throw new Error(`Integrator stalled at ${n} rows:\n${server.output()}`);
      await sleep(50);
    }
    const seconds = (performance.now() - t0) / 1000;
    // The acks follow the commit: wait for them before the server stops.
    for (let i = 0; i < 200 && (await left(broker, source)) > 0; i++) await sleep(50);
    return { seconds, rssMb: peakRssMb(server.pid), idleMb };
  } finally {
    await server.kill();
  }
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const suffix = randomBytes(4).toString('hex');
  const target = await createPgDatabase('bench_subs');
  const db = new pg.Pool({ connectionString: target.url, max: 1 });
  const rows: string[] = [];
  console.log(
    `${N.toLocaleString('en')} messages per run, ${REPS} repetitions; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`,
  );
  let seq = 0;
  try {
    for (const broker of brokers) {
      for (const cfg of configs) {
        const ours: (Run & { idleMb: number })[] = [];
        const base: Run[] = [];
        for (let rep = 0; rep < REPS; rep++) {
          const order = rep % 2 === 0 ? (['bare', 'integrator'] as const) : (['integrator', 'bare'] as const);
          for (const side of order) {
            // A run the broker broke off (other work on the machine may restart it) runs again, twice at most.
            for (let attempt = 1; ; attempt++) {
              const name = `BENCH_SUBS_${suffix}_${++seq}`;
              const table = `t_${seq}`;
              await db.query(`create table ${table} (id bigint, name text, amount numeric)`);
              try {
                await fill(broker, name);
                const r =
                  side === 'bare'
                    ? await bare({ broker, pg: target.url, table, messages: N, ...cfg, source: name })
                    : await integrator(broker, name, target.url, table, cfg, db);
                const c = (
                  await db.query<{ n: number; d: number }>(
                    `select count(*)::int n, count(distinct id)::int d from ${table}`,
                  )
                ).rows[0];
                const pending = await left(broker, name);
                if (c?.n !== N || c.d !== N || pending !== 0)
                  throw new Error(`${broker} ${side}: ${JSON.stringify(c)} rows, ${pending} unacked`);
                (side === 'bare' ? base : ours).push(r as Run & { idleMb: number });
                console.log(
                  `  ${broker} ${cfg.batch}x${cfg.concurrency} rep ${rep + 1} ${side.padEnd(10)} ${r.seconds.toFixed(2)} s  ${Math.round(N / r.seconds).toLocaleString('en')} msg/s  peak RSS ${r.rssMb} MB`,
                );
                break;
              } catch (err) {
                if (attempt >= 3) throw err;
                console.log(`  ${broker} ${side}: ${String(err).split('\n')[0]}; again in 10 s`);
                await sleep(10_000);
              } finally {
                await remove(broker, name);
                await db.query(`drop table if exists ${table}`);
              }
            }
          }
        }
        const rate = (xs: Run[]) => xs.map((x) => N / x.seconds);
        const ratios = ours.map((o, i) => (base[i]?.seconds ?? 0) / o.seconds);
        rows.push(
          `| ${broker} | ${cfg.batch} × ${cfg.concurrency} | ${Math.round(median(rate(base))).toLocaleString('en')} (${range(rate(base))}) | ${Math.round(median(rate(ours))).toLocaleString('en')} (${range(rate(ours))}) | ${median(ratios).toFixed(2)}× (${range(ratios, 2)}) | ${Math.max(...base.map((b) => b.rssMb))} / ${Math.max(...ours.map((o) => o.rssMb))} MB (idle ${Math.max(...ours.map((o) => o.idleMb))}) |`,
        );
      }
    }
  } finally {
    await db.end();
    await target.drop();
  }
  const load1 = loadavg();
  const lines = [
    `# Subscription benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${N.toLocaleString('en')} messages per run, ${REPS} repetitions per side; load average ${load0[0]?.toFixed(2)} at the start, ${load1[0]?.toFixed(2)} at the end.`,
    '',
    '| broker | batch × concurrency | bare consumer msg/s (median, range) | Integrator msg/s (median, range) | ratio (median, range) | peak RSS bare / Integrator |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
  console.log(`\n${lines.join('\n')}`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, lines.join('\n'));
}

await main();
