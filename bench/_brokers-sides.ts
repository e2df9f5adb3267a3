/**
 * One side of bench/brokers.ts, run as its own process so that its peak RSS is its own:
 *   node --import tsx bench/_brokers-sides.ts integrator|bare '<target JSON>'
 * `integrator` defines a postgres and a broker connection and a transfer flow in a fresh context and times
 * `runSync`; `bare` reads the same rows with pg + pg-cursor and publishes each as JSON.stringify bytes with
 * the broker's own client, waiting for every confirmation with the same window. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BROKERS = ['rabbitmq', 'nats', 'redis-streams', 'mqtt'] as const;
export type BrokerName = (typeof BROKERS)[number];
export interface Target {
  broker: BrokerName;
  pg: string;
  rows: number;
  /** The queue, subject, stream key or topic. */
  dest: string;
}
export interface SideResult {
  seconds: number;
  confirmed: number;
  window: number;
  rssMb: number;
}

const WINDOW = 1000;
const QUERY = 'select id, name, city, active from src';
const URLS: Record<BrokerName, string> = {
  rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
  nats: 'nats://127.0.0.1:4222',
  'redis-streams': 'redis://127.0.0.1:6379',
  mqtt: 'mqtt://127.0.0.1:1883',
};

/** An MQTT 5 client once its CONNACK came, with the broker's Receive Maximum from it. */
async function connectMqtt(): Promise<{ client: import('mqtt').MqttClient; receiveMaximum: number }> {
  const mqtt = await import('mqtt');
  const client = mqtt.connect(URLS.mqtt, { protocolVersion: 5, reconnectPeriod: 0 });
  const connack = await new Promise<import('mqtt').IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, receiveMaximum: connack.properties?.receiveMaximum ?? 65535 };
}

async function mqttReceiveMaximum(): Promise<number> {
  const { client, receiveMaximum } = await connectMqtt();
  await client.endAsync();
  return receiveMaximum;
}

async function integrator(t: Target): Promise<Omit<SideResult, 'rssMb'>> {
  const { loadSettings } = await import('../src/config.js');
  const { createContext } = await import('../src/context.js');
  const { createLogger } = await import('../src/core/logger.js');
  const dir = mkdtempSync(join(tmpdir(), 'integrator-bench-brokers-'));
  try {
    const ctx = await createContext(
      loadSettings({
        INTEGRATOR_DATA_DIR: dir,
        INTEGRATOR_DEMO: 'false',
        INTEGRATOR_ADMIN_PASSWORD: 'bench-password-1',
        INTEGRATOR_LOG_LEVEL: 'silent',
      }),
      createLogger('silent'),
    );
    const by = { name: 'bench' };
    await ctx.definitions.put('connection', 'pg', { type: 'postgres', url: t.pg }, by);
    await ctx.definitions.put('connection', 'broker', { type: t.broker, url: URLS[t.broker] }, by);
    const message = {
      rabbitmq: { routingKey: t.dest },
      nats: { subject: t.dest },
      'redis-streams': { stream: t.dest },
      mqtt: { topic: t.dest, qos: 1 },
    }[t.broker];
    await ctx.definitions.put(
      'flow',
      'bench',
      {
        type: 'transfer',
        steps: [{ from: { connection: 'pg', query: QUERY }, to: { connection: 'broker', message } }],
      },
      by,
    );
    // The drivers' modules load once per process, on the first open; a server pays that once.
    await ctx.connectors.get('pg');
    await ctx.connectors.get('broker');
    const window = t.broker === 'mqtt' ? Math.min(WINDOW, await mqttReceiveMaximum()) : WINDOW;
    const t0 = performance.now();
    const run = await ctx.runs.runSync({ flow: 'bench', trigger: 'cli', params: {} });
    const seconds = (performance.now() - t0) / 1000;
    if (run.status !== 'succeeded') throw new Error(`flow failed: ${run.error}`);
    const confirmed = run.steps[0]?.rowsWritten ?? 0;
    await ctx.close();
    return { seconds, confirmed, window };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Publishes through `send` (which settles on the broker's confirmation), at most `window` at once. */
async function pump(t: Target, window: number, send: (body: Buffer) => Promise<void>): Promise<number> {
  const pg = (await import('pg')).default;
  const Cursor = (await import('pg-cursor')).default;
  const client = new pg.Client({ connectionString: t.pg });
  await client.connect();
  const cursor = client.query(new Cursor(QUERY));
  let inFlight = 0;
  let confirmed = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settle = () => {
    inFlight--;
    wake?.();
  };
  try {
    for (;;) {
      const rows: Record<string, unknown>[] = await cursor.read(5000);
      if (rows.length === 0) break;
      for (const row of rows) {
        while (inFlight >= window) await new Promise<void>((r) => (wake = r));
        if (failure) throw failure;
        inFlight++;
        send(Buffer.from(JSON.stringify(row))).then(
          () => {
            confirmed++;
            settle();
          },
          (err: unknown) => {
            failure ??= err;
            settle();
          },
        );
      }
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    if (failure) throw failure;
  } finally {
    await cursor.close();
    await client.end();
  }
  return confirmed;
}

async function bare(t: Target): Promise<Omit<SideResult, 'rssMb'>> {
  const t0 = performance.now();
  let confirmed = 0;
  let window = WINDOW;
  if (t.broker === 'rabbitmq') {
    const amqp = (await import('amqplib')).default;
    const conn = await amqp.connect(URLS.rabbitmq);
    const ch = await conn.createConfirmChannel();
    ch.on('return', () => {
      throw new Error('a message was returned');
    });
    confirmed = await pump(
      t,
      window,
      (body) =>
        new Promise((resolve, reject) => {
          ch.publish(
            '',
            t.dest,
            body,
            { mandatory: true, persistent: true, contentType: 'application/json' },
            (err: unknown) => (err ? reject(err) : resolve()),
          );
        }),
    );
    await conn.close();
  } else if (t.broker === 'nats') {
    const { connect, headers } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    // The same client option as Integrator's connector: no async stack trace per request.
    const nc = await connect({ servers: '127.0.0.1:4222', noAsyncTraces: true });
    const js = jetstream(nc);
    confirmed = await pump(t, window, async (body) => {
      const h = headers();
      h.set('Content-Type', 'application/json');
      await js.publish(t.dest, body, { headers: h });
    });
    await nc.close();
  } else if (t.broker === 'redis-streams') {
    const { Redis } = await import('ioredis');
    const redis = new Redis(URLS['redis-streams']);
    confirmed = await pump(t, window, async (body) => {
      await redis.xadd(t.dest, '*', 'body', body, 'content-type', 'application/json');
    });
    redis.disconnect();
  } else {
    const { client: c, receiveMaximum } = await connectMqtt();
    // MQTT 5 §4.9: no more unacknowledged QoS 1 publishes than the broker's Receive Maximum.
    window = Math.min(WINDOW, receiveMaximum);
    confirmed = await pump(
      t,
      window,
      (body) =>
        new Promise((resolve, reject) => {
          c.publish(
            t.dest,
            body,
            { qos: 1, properties: { contentType: 'application/json', payloadFormatIndicator: true } },
            (err) => (err ? reject(err) : resolve()),
          );
        }),
    );
    await c.endAsync();
  }
  return { seconds: (performance.now() - t0) / 1000, confirmed, window };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const which = process.argv[2];
  const target = JSON.parse(process.argv[3] ?? '{}') as Target;
  const r = which === 'integrator' ? await integrator(target) : await bare(target);
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ ...r, rssMb }));
  process.exit(0);
}
