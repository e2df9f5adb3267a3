/**
 * A real RabbitMQ restart (`rabbitmqctl stop_app` / `start_app`) while a subscription consumes a durable
 * queue of persistent messages into PostgreSQL: the subscription reconnects with backoff once the broker
 * is back, and every message lands exactly once (dedupe key). The broker is restarted quickly and always
 * started again, even when the test fails.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriptionStatus } from '../../src/subscriptions/subscription-manager.js';
import { type SubscriptionFixture, subscriptionFixture } from '../subscriptions/fixture.js';

const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const QUEUE = `restart-${suffix}`;
const TOTAL = 3000;
const URL = 'amqp://guest:guest@127.0.0.1:5672';

async function withBroker<T>(fn: (ch: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const conn = await amqp.connect(URL).catch((err: unknown) => {
      if (Date.now() > deadline) throw err;
      return undefined;
    });
    if (conn) {
      try {
        return await fn(await conn.createConfirmChannel());
      } finally {
        await conn.close().catch(() => undefined);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a RabbitMQ restart during consumption', () => {
  let f: SubscriptionFixture;

  beforeAll(async () => {
    f = await subscriptionFixture();
    await f.put('connections', 'rabbit', { type: 'rabbitmq', url: URL });
  });
  afterAll(async () => {
    await withBroker((ch) => ch.deleteQueue(QUEUE)).catch(() => undefined);
    await f?.close();
  });

  it('reconnects when the broker is back, and lands every message once', async () => {
    await withBroker(async (ch) => {
      await ch.assertQueue(QUEUE, { durable: true });
      for (let i = 1; i <= TOTAL; i++)
        ch.sendToQueue(QUEUE, Buffer.from(`{"id":${i}}`), { messageId: `x-${i}`, persistent: true });
      await ch.waitForConfirms();
    });
    await f.target.query('create table restart_rows (id integer)');
    await f.put('flows', 'restart', {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@message' },
          transforms: [{ type: 'map', select: ['id'] }],
          to: { connection: 'pg', table: 'restart_rows' },
        },
      ],
    });
    await f.put('subscriptions', 'restart', {
      connection: 'rabbit',
      queue: QUEUE,
      flow: 'restart',
      batchSize: 10,
      dedupe: {},
    });
    await f.until('some rows', async () => (await f.count('restart_rows')) > 0);
    try {
      await run('rabbitmqctl', ['stop_app']);
      // The restart struck mid-stream.
      expect(await f.count('restart_rows')).toBeLessThan(TOTAL);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await run('rabbitmqctl', ['start_app']);
    }
    await f.until('every row', async () => (await f.count('restart_rows')) >= TOTAL, 90_000);
    await f.until(
      'the queue drained',
      () => withBroker(async (ch) => (await ch.checkQueue(QUEUE)).messageCount === 0),
      30_000,
    );
    const { rows } = await f.target.query<{ n: number; d: number }>(
      'select count(*)::int n, count(distinct id)::int d from restart_rows',
    );
    expect(rows[0]).toEqual({ n: TOTAL, d: TOTAL });
    const status = (await f.call<SubscriptionStatus>('GET', '/rest/v1/subscriptions/restart/status')).body;
    expect(status.state).toBe('running');
    expect(status.lastError).toMatch(/RabbitMQ/);
  }, 180_000);
});
