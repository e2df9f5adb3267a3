/**
 * Broker publish benchmark: small rows from a PostgreSQL table published to each broker with the
 * broker's confirmation awaited (RabbitMQ publisher confirms, NATS JetStream publish acks, Redis Streams
 * XADD replies, MQTT QoS 1 PUBACKs), through Integrator (a transfer flow, table → broker connection, run by
 * the run service) against a bare publisher script doing the same by hand in the same run: the same
 * client library, rows read with `pg` + `pg-cursor`, `JSON.stringify` per row, the same confirm rule and
 * the same in-flight window (1000; MQTT: the broker's Receive Maximum, as Integrator does).
 *   node --import tsx bench/brokers.ts [rows] [--reps N] [--only rabbitmq,nats,redis-streams,mqtt]
 * rows defaults to BENCH_BROKER_ROWS or 1,000,000; --reps (default 3). Each side runs in its own child
 * process (its peak RSS is that child's maxRSS), the two alternate which goes first, and the queue, stream
 * or key is emptied before and checked after every run (MQTT: the publisher's acks are counted). What the
 * bench created is removed at the end. Writes bench/results/brokers.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createPgDatabase } from '../test/services.js';
import { BROKERS, type BrokerName, type SideResult, type Target } from './_brokers-sides.js';
import { median, range } from './_stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(here, 'results', 'brokers.md');
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 3;
const onlyAt = args.indexOf('--only');
const positional = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--reps');
const ROWS = Number(positional[0] ?? process.env.BENCH_BROKER_ROWS ?? 1_000_000);
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : [...BROKERS];
const brokers = BROKERS.filter((b) => only.includes(b));

function side(which: 'integrator' | 'bare', target: Target): Promise<SideResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, '_brokers-sides.ts'), which, JSON.stringify(target)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(last) as SideResult);
      else reject(new Error(`${which} ${target.broker} exited ${code}: ${out}`));
    });
  });
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const suffix = randomBytes(4).toString('hex');
  const db = await createPgDatabase('bench_brokers');
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await pool.query(
    `create table src as select g as id, 'name ' || g as name,
       (array['Zürich','New York','São Paulo','Tokyo','Paris'])[1 + g % 5] as city, g % 2 = 0 as active
     from generate_series(1, ${ROWS}) g`,
  );
  const queue = `bench-${suffix}`;
  const stream = `BENCH_${suffix}`;
  const redisKey = `bench:${suffix}`;
  // A connection per use: other work on the machine may restart RabbitMQ (stop_app / start_app) during
  // the bench, which a durable queue survives and a kept connection would not.
  const rabbit = async <T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> => {
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    conn.on('error', () => undefined);
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      return await fn(ch);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
  await rabbit((ch) => ch.assertQueue(queue, { durable: true, autoDelete: false }));
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`bench.${suffix}.>`] });
  const redis = new Redis('redis://127.0.0.1:6379');
  const targets: Record<BrokerName, Target> = {
    rabbitmq: { broker: 'rabbitmq', pg: db.url, rows: ROWS, dest: queue },
    nats: { broker: 'nats', pg: db.url, rows: ROWS, dest: `bench.${suffix}.rows` },
    'redis-streams': { broker: 'redis-streams', pg: db.url, rows: ROWS, dest: redisKey },
    mqtt: { broker: 'mqtt', pg: db.url, rows: ROWS, dest: `bench/${suffix}/rows` },
  };
  const reset: Record<BrokerName, () => Promise<void>> = {
    rabbitmq: async () => {
      await rabbit((ch) => ch.assertQueue(queue, { durable: true, autoDelete: false }));
      await rabbit((ch) => ch.purgeQueue(queue));
    },
    nats: async () => {
      await jsm.streams.purge(stream);
    },
    'redis-streams': async () => {
      await redis.del(redisKey);
    },
    mqtt: async () => undefined,
  };
  const count: Record<BrokerName, (r: SideResult) => Promise<number>> = {
    rabbitmq: async () => (await rabbit((ch) => ch.checkQueue(queue))).messageCount,
    nats: async () => (await jsm.streams.info(stream)).state.messages,
    'redis-streams': async () => redis.xlen(redisKey),
    mqtt: async (r) => r.confirmed,
  };
  const results: { broker: BrokerName; bare: SideResult[]; ours: SideResult[] }[] = [];
  console.log(
    `${ROWS.toLocaleString('en')} rows per run, ${REPS} repetitions; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`,
  );
  try {
    for (const broker of brokers) {
      const entry = { broker, bare: [] as SideResult[], ours: [] as SideResult[] };
      results.push(entry);
      for (let rep = 0; rep < REPS; rep++) {
        const order = rep % 2 === 0 ? (['bare', 'integrator'] as const) : (['integrator', 'bare'] as const);
        for (const which of order) {
          let r: SideResult | undefined;
          // A run the broker broke off (restarted under the bench by other work) is run again, twice at most.
          for (let attempt = 1; r === undefined; attempt++) {
            try {
              await reset[broker]();
              const got = await side(which, targets[broker]);
              const n = await count[broker](got);
              if (n !== ROWS) throw new Error(`${broker} ${which}: ${n} messages, expected ${ROWS}`);
              r = got;
            } catch (err) {
              if (attempt >= 3) throw err;
              console.log(`  ${broker} ${which}: ${String(err).split('\n')[0]}; again in 10 s`);
              await new Promise((w) => setTimeout(w, 10000));
            }
          }
          (which === 'bare' ? entry.bare : entry.ours).push(r);
          console.log(
            `  ${broker.padEnd(13)} rep ${rep + 1} ${which.padEnd(10)} ${r.seconds.toFixed(2)} s  ${Math.round(ROWS / r.seconds).toLocaleString('en')} msg/s  window ${r.window}  peak RSS ${r.rssMb} MB`,
          );
        }
      }
      await reset[broker]();
    }
  } finally {
    await rabbit((ch) => ch.deleteQueue(queue)).catch(() => undefined);
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await redis.del(redisKey);
    redis.disconnect();
    await pool.end();
    await db.drop();
  }
  const load1 = loadavg();
  const lines = [
    `# Broker publish benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${ROWS.toLocaleString('en')} rows (id, name, city, active; about 60-byte JSON bodies) from a PostgreSQL table, one message per row, ${REPS} repetitions per side; load average ${load0[0]?.toFixed(2)} at the start, ${load1[0]?.toFixed(2)} at the end.`,
    '',
    '| broker (confirm) | bare publisher msg/s (median, range) | Integrator msg/s (median, range) | ratio (median, range) | window | peak RSS bare / Integrator |',
    '|---|---|---|---|---|---|',
  ];
  for (const { broker, bare, ours } of results) {
    const rate = (xs: SideResult[]) => xs.map((x) => ROWS / x.seconds);
    const ratios = ours.map((o, i) => (bare[i] ? bare[i].seconds / o.seconds : 0));
    lines.push(
      `| ${broker} (${targetConfirm(broker)}) | ${Math.round(median(rate(bare))).toLocaleString('en')} (${range(rate(bare))}) | ${Math.round(median(rate(ours))).toLocaleString('en')} (${range(rate(ours))}) | ${median(ratios).toFixed(2)}× (${range(ratios, 2)}) | ${ours[0]?.window} | ${Math.max(...bare.map((b) => b.rssMb))} / ${Math.max(...ours.map((o) => o.rssMb))} MB |`,
    );
  }
  lines.push('');
  console.log(`\n${lines.join('\n')}`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, lines.join('\n'));
}

function targetConfirm(b: BrokerName): string {
  return {
    rabbitmq: 'publisher confirms',
    nats: 'JetStream acks',
    'redis-streams': 'XADD replies',
    mqtt: 'QoS 1 PUBACK',
  }[b];
}

await main();
