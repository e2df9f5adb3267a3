/**
 * Subscriptions in a real cluster: a PostgreSQL store, one api process and two workers consuming the
 * same RabbitMQ queue, NATS durable consumer and Redis consumer group (competing consumers). Both
 * workers take messages; one is killed (SIGKILL) mid-stream, and the other takes over what it left
 * unacked: every message lands exactly once (dedupe keys).
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { SubscriptionStatus } from '../../src/subscriptions/subscription-manager.js';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';
import { createPgDatabase } from '../services.js';

const PASSWORD = 'subs-cluster-admin-pw';
const TOTAL = 3000;
const suffix = randomBytes(4).toString('hex');
const QUEUE = `cluster-${suffix}`;
const STREAM = `CLUSTER_${suffix}`;
const RSTREAM = `cluster:${suffix}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('subscriptions in a cluster', () => {
  const procs: ServerProcess[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL').catch(() => undefined);
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('two workers share each subscription, and one dying leaves its messages to the other', async () => {
    const store = await createPgDatabase('subcluster');
    cleanup.push(() => store.drop());
    const data = await createPgDatabase('subclusterdata');
    cleanup.push(() => data.drop());
    const db = new pg.Pool({ connectionString: data.url, max: 2 });
    db.on('error', () => undefined);
    cleanup.push(() => db.end());
    for (const t of ['rabbit_rows', 'nats_rows', 'redis_rows'])
      await db.query(`create table ${t} (id integer)`);

    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(QUEUE, { durable: true });
    cleanup.push(async () => {
      await ch.deleteQueue(QUEUE);
      await conn.close();
    });
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: [`cluster.${suffix}`] });
    cleanup.push(async () => {
      await jsm.streams.delete(STREAM);
      await nc.close();
    });
    const redis = new Redis('redis://127.0.0.1:6379');
    cleanup.push(async () => {
      await redis.del(RSTREAM);
      redis.disconnect();
    });

    const env = {
      INTEGRATOR_DATABASE_URL: store.url,
      INTEGRATOR_SECRET: 'subs-cluster-secret-0123456789-abcdefghij',
      INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
    };
    const api = await startProcess('api', env);
    procs.push(api);
    const workers = await Promise.all([startProcess('worker', env), startProcess('worker', env)]);
    procs.push(...workers);
    const { call } = await apiClient(api.url, PASSWORD);
    const put = async (kind: string, name: string, spec: object) => {
      const res = await call('PUT', `/rest/v1/${kind}/${name}`, spec);
      if (res.status >= 300)
        throw new Error(`PUT ${kind}/${name}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    await put('connections', 'pg', { type: 'postgres', url: data.url });
    await put('connections', 'rabbit', { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' });
    await put('connections', 'nats', { type: 'nats', url: 'nats://127.0.0.1:4222' });
    await put('connections', 'redis', { type: 'redis-streams', url: 'redis://127.0.0.1:6379' });
    const subs = {
      rabbit: { queue: QUEUE },
      nats: { stream: STREAM },
      redis: { stream: RSTREAM },
    } as const;
    for (const [broker, where] of Object.entries(subs)) {
      await put('flows', broker, {
        type: 'transfer',
        steps: [
          {
            from: { connection: '@message' },
            transforms: [{ type: 'map', select: ['id'] }],
            to: { connection: 'pg', table: `${broker}_rows` },
          },
        ],
      });
      await put('subscriptions', broker, {
        connection: broker,
        ...where,
        flow: broker,
        batchSize: 20,
        ackWait: 2,
        dedupe: { key: '{id}' },
      });
    }
    // Both workers have started their consumers before the messages come, so both get a share.
    await sleep(4000);

    const js = jetstream(nc);
    const pipe = redis.pipeline();
    for (let i = 1; i <= TOTAL; i++) {
      const body = `{"id":${i}}`;
      ch.sendToQueue(QUEUE, Buffer.from(body), { persistent: true });
      pipe.xadd(RSTREAM, '*', 'body', body);
      await js.publish(`cluster.${suffix}`, body);
    }
    await ch.waitForConfirms();
    await pipe.exec();

    const counts = async (t: string) =>
      (
        await db.query<{ n: number; d: number }>(
          `select count(*)::int n, count(distinct id)::int d from ${t}`,
        )
      ).rows[0] ?? { n: 0, d: 0 };
    const status = async (name: string) =>
      (await call<SubscriptionStatus>('GET', `/rest/v1/subscriptions/${name}/status`)).body;

    // Both workers consume each subscription: each has acked some before one of them dies.
    let deadline = Date.now() + 60_000;
    for (const name of Object.keys(subs)) {
      for (;;) {
        const s = await status(name);
        if (s.workers.length === 2 && s.workers.every((w) => w.acked > 0)) break;
        if (Date.now() > deadline) throw new Error(`${name}: ${JSON.stringify(s)}`);
        await sleep(100);
      }
    }
    await workers[0]?.kill('SIGKILL');

    deadline = Date.now() + 120_000;
    for (const name of Object.keys(subs)) {
      for (;;) {
        const c = await counts(`${name}_rows`);
        if (c.d === TOTAL) break;
        if (Date.now() > deadline) throw new Error(`${name}: ${JSON.stringify(c)}\n${workers[1]?.output()}`);
        await sleep(200);
      }
      expect(await counts(`${name}_rows`)).toEqual({ n: TOTAL, d: TOTAL });
    }
    // Nothing left with the brokers: the survivor acked what the dead worker left.
    deadline = Date.now() + 30_000;
    for (;;) {
      const q = await ch.checkQueue(QUEUE);
      const ci = await jsm.consumers.info(STREAM, 'nats');
      const rp = Number((await redis.xpending(RSTREAM, 'redis'))[0]);
      if (q.messageCount === 0 && ci.num_pending === 0 && ci.num_ack_pending === 0 && rp === 0) break;
      if (Date.now() > deadline)
        throw new Error(`left: ${JSON.stringify({ q, ci: ci.num_ack_pending, rp })}`);
      await sleep(200);
    }
    for (const name of Object.keys(subs))
      expect(await counts(`${name}_rows`)).toEqual({ n: TOTAL, d: TOTAL });
  }, 300_000);
});
