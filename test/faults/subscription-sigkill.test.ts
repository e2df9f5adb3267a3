/**
 * Subscriptions through SIGKILL: a real server process consumes two RabbitMQ queues of 10,000 messages
 * each into PostgreSQL, one subscription with a dedupe key and one without, and is killed mid-stream
 * (twice), then started again on the same data directory. Every message must land (none lost), and
 * with the dedupe key every one exactly once; without it at least once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';
import { createPgDatabase } from '../services.js';

const PASSWORD = 'subscription-sigkill-password';
const TOTAL = 10_000;
const suffix = randomBytes(4).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('subscriptions through SIGKILL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'integrator-subs-kill-'));
  let proc: ServerProcess | undefined;
  let conn: amqp.ChannelModel | undefined;
  let dest: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  let pool: pg.Pool | undefined;
  const queues = [`kill-once-${suffix}`, `kill-least-${suffix}`];

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    if (conn) {
      const ch = await conn.createChannel();
      for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
      await conn.close().catch(() => undefined);
    }
    await pool?.end();
    await dest?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const counts = async (table: string) => {
    const { rows } = await pool!.query<{ n: number; d: number }>(
      `select count(*)::int n, count(distinct id)::int d from ${table}`,
    );
    return rows[0] ?? { n: 0, d: 0 };
  };

  it('loses no message, and writes none twice with a dedupe key', async () => {
    dest = await createPgDatabase('subkill');
    pool = new pg.Pool({ connectionString: dest.url, max: 2 });
    pool.on('error', () => undefined);
    await pool.query('create table once_rows (id integer, _message_id text)');
    await pool.query('create table least_rows (id integer, _message_id text)');
    conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createConfirmChannel();
    for (const q of queues) await ch.assertQueue(q, { durable: true });
    for (let i = 1; i <= TOTAL; i++) {
      for (const q of queues)
        ch.sendToQueue(q, Buffer.from(`{"id":${i}}`), { messageId: `m-${i}`, persistent: true });
      if (i % 1000 === 0) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();

    const env = { INTEGRATOR_ADMIN_PASSWORD: PASSWORD };
    proc = await startProcess('all', env, dataDir);
    const { call } = await apiClient(proc.url, PASSWORD);
    const put = async (kind: string, name: string, spec: object) => {
      const res = await call('PUT', `/rest/v1/${kind}/${name}`, spec);
      if (res.status >= 300)
        throw new Error(`PUT ${kind}/${name}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    await put('connections', 'pg', { type: 'postgres', url: dest.url });
    await put('connections', 'rabbit', { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' });
    for (const [name, table] of [
      ['once', 'once_rows'],
      ['least', 'least_rows'],
    ] as const) {
      await put('flows', name, {
        type: 'transfer',
        steps: [
          {
            from: { connection: '@message' },
            transforms: [{ type: 'map', select: ['id', '_message_id'] }],
            to: { connection: 'pg', table },
          },
        ],
      });
    }
    await put('subscriptions', 'once', {
      connection: 'rabbit',
      queue: queues[0],
      flow: 'once',
      batchSize: 200,
      concurrency: 2,
      dedupe: {},
    });
    await put('subscriptions', 'least', {
      connection: 'rabbit',
      queue: queues[1],
      flow: 'least',
      batchSize: 200,
    });

    for (const threshold of [1500, 5000]) {
      const deadline = Date.now() + 60_000;
      while ((await counts('once_rows')).n < threshold) {
        if (Date.now() > deadline) throw new Error(`no progress past ${threshold}:\n${proc.output()}`);
        await sleep(20);
      }
      await sleep(Math.floor(Math.random() * 100));
      await proc.kill('SIGKILL');
      proc = await startProcess('all', env, dataDir);
    }

    const deadline = Date.now() + 120_000;
    const check = await conn.createChannel();
    for (;;) {
      const [a, b] = await Promise.all(queues.map((q) => check.checkQueue(q)));
      const once = await counts('once_rows');
      const least = await counts('least_rows');
      if (a?.messageCount === 0 && b?.messageCount === 0 && once.d === TOTAL && least.d === TOTAL) break;
      if (Date.now() > deadline)
        throw new Error(`not done: ${JSON.stringify({ a, b, once, least })}\n${proc.output()}`);
      await sleep(200);
    }
    // Unacked messages of the last process would show once it stops; give the acks a moment.
    await sleep(1000);
    const once = await counts('once_rows');
    const least = await counts('least_rows');
    expect(once).toEqual({ n: TOTAL, d: TOTAL });
    expect(least.d).toBe(TOTAL);
    expect(least.n).toBeGreaterThanOrEqual(TOTAL);
    console.log(`subscription-sigkill: without a dedupe key ${least.n - TOTAL} rows were written twice`);
  }, 300_000);
});
