/**
 * Redis Streams subscriptions against the real Redis: a consumer group created on demand, entries into
 * PostgreSQL (a body with its content type, or plain fields as the record), a failing destination until
 * it succeeds (the entry stays pending, claimed again with its delivery counted), entries another
 * consumer left pending claimed after ackWait, dead letters to a stream, and the subscription's
 * connections killed mid-stream (CLIENT KILL) with no entry lost.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriptionStatus } from '../../src/subscriptions/subscription-manager.js';
import { type SubscriptionFixture, subscriptionFixture } from './fixture.js';

const suffix = randomBytes(4).toString('hex');

describe('Redis Streams subscriptions', () => {
  let f: SubscriptionFixture;
  let redis: Redis;
  let n = 0;
  const streams: string[] = [];

  beforeAll(async () => {
    f = await subscriptionFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await f.put('connections', 'redis', { type: 'redis-streams', url: 'redis://127.0.0.1:6379' });
  });
  afterAll(async () => {
    await f?.close();
    if (streams.length > 0) await redis?.del(...streams);
    redis?.disconnect();
  });

  function stream(): string {
    const s = `subs:${suffix}:${++n}`;
    streams.push(s);
    return s;
  }

  async function subscribe(
    key: string,
    table: string,
    extra: Record<string, unknown> = {},
    to: Record<string, unknown> = {},
  ) {
    const name = `rsub${n}`;
    await f.put('flows', name, {
      type: 'transfer',
      steps: [{ from: { connection: '@message' }, to: { connection: 'pg', table, ...to } }],
    });
    await f.put('subscriptions', name, {
      connection: 'redis',
      stream: key,
      flow: name,
      linger: 0.05,
      ackWait: 1,
      ...extra,
    });
    return name;
  }

  const status = async (name: string) =>
    (await f.call<SubscriptionStatus>('GET', `/rest/v1/subscriptions/${name}/status`)).body;
  const pending = async (key: string, group: string) => Number((await redis.xpending(key, group))[0]);

  it('lands entries with a body, and entries of plain fields, from the start of the stream; acks each', async () => {
    const key = stream();
    await redis.xadd(
      key,
      '*',
      'body',
      '{"id":1,"amount":0.123456789012345678901234567890}',
      'content-type',
      'application/json',
      'id',
      'e-1',
      'key',
      'k',
      'trace',
      't1',
    );
    await redis.xadd(key, '*', 'id', '2', 'amount', '2.5');
    const table = `redis_rows_${suffix}`;
    const name = await subscribe(key, table);
    await f.until('2 rows', async () => (await f.count(table)) === 2);
    const { rows } = await f.target.query(
      `select id::text, amount::text, _message_id, _message_key, _message_headers, _message_source, _message_redeliveries from ${table} order by _message_id`,
    );
    expect(rows[0]).toMatchObject({ _message_id: '2', amount: '2.5', _message_headers: {} });
    expect(rows[1]).toMatchObject({
      id: '1',
      amount: '0.123456789012345678901234567890',
      _message_id: 'e-1',
      _message_key: 'k',
      _message_headers: { trace: 't1' },
      _message_source: key,
      _message_redeliveries: '0',
    });
    await f.until('acked', async () => (await pending(key, name)) === 0);
    expect(await status(name)).toMatchObject({ consumed: 2, acked: 2 });
  });

  it('keeps a failed entry pending and claims it again after its backoff until the destination takes it', async () => {
    const key = stream();
    const table = `redis_later_${suffix}`;
    const name = await subscribe(
      key,
      table,
      { maxAttempts: 100, backoff: { delay: 0.2, factor: 1, max: 0.2 } },
      { create: false },
    );
    await redis.xadd(key, '*', 'body', '{"id":3}');
    await f.until('two failed attempts', async () => (await status(name)).failed >= 2);
    expect(await pending(key, name)).toBe(1);
    await f.target.query(
      `create table ${table} (id integer, _message_id text, _message_key text, _message_headers jsonb, _message_source text, _message_timestamp timestamptz, _message_redeliveries integer)`,
    );
    await f.until('the row', async () => (await f.count(table)) === 1);
    await f.until('acked', async () => (await pending(key, name)) === 0);
    const { rows } = await f.target.query(`select _message_redeliveries from ${table}`);
    expect(rows[0]._message_redeliveries).toBeGreaterThan(0);
  });

  it('claims entries a consumer that went away left pending, after ackWait', async () => {
    const key = stream();
    const table = `redis_claimed_${suffix}`;
    const group = `g-${suffix}`;
    await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    await redis.xadd(key, '*', 'body', '{"id":4}');
    // A consumer takes it and dies before acking.
    await redis.xreadgroup('GROUP', group, 'dead-consumer', 'COUNT', 10, 'STREAMS', key, '>');
    await subscribe(key, table, { group });
    await f.until('the claimed row', async () => (await f.count(table)) === 1, 20_000);
    await f.until('acked', async () => (await pending(key, group)) === 0);
  });

  it('dead-letters to a stream after maxAttempts with the error', async () => {
    const key = stream();
    const dead = stream();
    const name = await subscribe(
      key,
      `redis_missing_${suffix}`,
      {
        maxAttempts: 2,
        backoff: { delay: 0.1, factor: 1, max: 0.1 },
        deadLetter: { connection: 'redis', message: { stream: dead } },
      },
      { create: false },
    );
    await redis.xadd(key, '*', 'body', '{"id":5}', 'id', 'poison-5');
    await f.until('the dead letter', async () => (await redis.xlen(dead)) === 1);
    const fields = (await redis.xrange(dead, '-', '+'))[0]?.[1] ?? [];
    const body = JSON.parse(fields[fields.indexOf('body') + 1] ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ subscription: name, message_id: 'poison-5', body: '{"id":5}' });
    expect(String(body['error'])).toMatch(new RegExp(`redis_missing_${suffix}`));
    await f.until('acked', async () => (await pending(key, name)) === 0);
  });

  it('survives its connections being killed mid-stream: reconnects, and every entry lands', async () => {
    const key = stream();
    const table = `redis_kill_${suffix}`;
    const name = await subscribe(key, table, { batchSize: 50, metadata: false });
    const total = 3000;
    const pipe = redis.pipeline();
    for (let i = 1; i <= total; i++) pipe.xadd(key, '*', 'body', `{"id":${i}}`);
    await pipe.exec();
    await f.until('some rows', async () => (await f.count(table)) > 0);
    // Its two clients (blocking reads, and acks): looked for until both are there, since a client
    // may be between connections at any moment.
    let mine: string[] = [];
    let list = '';
    await f
      .until('its clients', async () => {
        list = String(await redis.client('LIST'));
        mine = list
          .split('\n')
          .filter((line) => line.includes('name=integrator-subscription-') && line.includes(`:${name} `))
          .map((line) => /id=(\d+)/.exec(line)?.[1] ?? '0');
        return mine.length === 2;
      })
      .catch((err: unknown) => {
        throw new Error(`${String(err)}; clients:\n${list}`);
      });
    for (const id of mine) await redis.client('KILL', 'ID', id);
    await f.until(
      'every entry',
      async () => {
        const { rows } = await f.target.query<{ d: number }>(
          `select count(distinct id)::int d from ${table}`,
        );
        return rows[0]?.d === total;
      },
      60_000,
    );
    await f.until('acked', async () => (await pending(key, name)) === 0, 20_000);
    expect((await status(name)).lastError).toMatch(/Redis/);
  });
});
