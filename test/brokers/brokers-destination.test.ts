/**
 * RabbitMQ and Redis Streams as destinations, through the real server against the real brokers: a
 * message per record and per batch, templates, exact values, confirms awaited (a real nack, a real
 * unroutable return), an unreachable broker, a connection killed mid-step, check and discover, and
 * secrets kept out of the API. The records arrive through a listener (HTTP in, message out).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { type ListenerFixture, listenerFixture } from '../listeners/fixture.js';

const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const BODY =
  '[{"id":1,"amount":0.123456789012345678901234567890,"big":9007199254740993,"name":"Zoë 🚀 \\"q\\""},' +
  '{"id":2,"amount":-1.5,"big":2,"name":"b"},{"id":3,"amount":3,"big":3,"name":"c"}]';
const FIRST =
  '{"id":1,"amount":0.123456789012345678901234567890,"big":9007199254740993,"name":"Zoë 🚀 \\"q\\""}';

describe('message broker destinations', () => {
  let f: ListenerFixture;
  let amqpConn: amqp.ChannelModel;
  let ch: amqp.Channel;
  let redis: Redis;
  let n = 0;

  /** A flow from the listener body to `to`, run by POSTing BODY to it; answers the run. */
  async function publish(
    to: Record<string, unknown>,
    body = BODY,
    params: Record<string, unknown> = {},
  ): Promise<Run> {
    const name = `pub${++n}`;
    await f.put('flows', name, {
      type: 'transfer',
      parameters: Object.fromEntries(Object.keys(params).map((k) => [k, { type: 'string' }])),
      steps: [{ from: { connection: '@request' }, to }],
    });
    await f.put('listeners', name, { path: name, methods: ['POST'], flow: name });
    const query = new URLSearchParams(params as Record<string, string>).toString();
    const res = await f.call(`${name}${query ? `?${query}` : ''}`, {
      method: 'POST',
      headers: { ...f.admin, 'content-type': 'application/json' },
      body,
    });
    const answer = (await res.json()) as { id?: string; runId?: string; error?: { runId?: string } };
    const id = answer.runId ?? answer.error?.runId ?? answer.id;
    if (!id) throw new Error(`listener answered ${res.status} ${JSON.stringify(answer)}`);
    const r = await f.s.ctx.runs.get(id);
    if (!r) throw new Error(`no run ${id}`);
    return r as Run;
  }

  async function queue(args: Record<string, unknown> = {}): Promise<string> {
    const q = `itest-${suffix}-${++n}`;
    await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: args });
    return q;
  }

  async function drainQueue(q: string): Promise<amqp.GetMessage[]> {
    const got: amqp.GetMessage[] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (m === false) return got;
      got.push(m);
    }
  }

  beforeAll(async () => {
    f = await listenerFixture();
    amqpConn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    amqpConn.on('error', () => undefined);
    ch = await amqpConn.createChannel();
    redis = new Redis('redis://127.0.0.1:6379');
    await f.put('connections', 'rabbit', {
      type: 'rabbitmq',
      url: 'amqp://127.0.0.1:5672',
      username: 'guest',
      password: 'guest',
      queues: ['missing-queue-' + suffix],
      exchanges: ['amq.direct'],
    });
    await f.put('connections', 'redis', { type: 'redis-streams', url: 'redis://127.0.0.1:6379' });
  });
  afterAll(async () => {
    await amqpConn.close().catch(() => undefined);
    redis.disconnect();
    await f.close();
  });

  it('RabbitMQ: a message per record with exact values, routing key, headers, key and id from templates', async () => {
    const q = await queue();
    await ch.bindQueue(q, 'amq.direct', `orders.${suffix}.1`);
    const r = await publish(
      {
        connection: 'rabbit',
        message: {
          exchange: 'amq.direct',
          routingKey: `orders.${suffix}.{id}`,
          id: '{run_id}-{record}',
          key: 'k{id}',
          headers: { source: '{src}', name: '{name}' },
        },
      },
      BODY.replace(/"id":2/, '"id":1').replace(/"id":3/, '"id":1'),
      { src: 'web' },
    );
    expect(r.error).toBeNull();
    expect(r.steps[0]).toMatchObject({ rowsWritten: 3 });
    const got = await drainQueue(q);
    expect(got).toHaveLength(3);
    expect(got[0]?.content.toString('utf8')).toBe(FIRST);
    expect(got[0]?.properties).toMatchObject({
      messageId: `${r.id}-1`,
      contentType: 'application/json',
      deliveryMode: 2,
    });
    expect(got[0]?.properties.headers).toMatchObject({ source: 'web', name: 'Zoë 🚀 "q"', key: 'k1' });
    expect(got.map((m) => m.properties.messageId)).toEqual([1, 2, 3].map((i) => `${r.id}-${i}`));
  });

  it('RabbitMQ: a message per batch as a JSON array, NDJSON or CSV', async () => {
    const q = await queue();
    const jsonRun = await publish({
      connection: 'rabbit',
      message: { routingKey: q, send: 'batch', batchSize: 2 },
    });
    expect(jsonRun.error).toBeNull();
    let got = await drainQueue(q);
    expect(got.map((m) => m.content.toString())).toEqual([
      `[${FIRST},{"id":2,"amount":-1.5,"big":2,"name":"b"}]`,
      '[{"id":3,"amount":3,"big":3,"name":"c"}]',
    ]);
    const nd = await publish({
      connection: 'rabbit',
      format: { type: 'ndjson' },
      message: { routingKey: q, send: 'batch', batchSize: 10 },
    });
    expect(nd.error).toBeNull();
    got = await drainQueue(q);
    expect(got).toHaveLength(1);
    expect(got[0]?.properties.contentType).toBe('application/x-ndjson');
    expect(got[0]?.content.toString()).toBe(
      `${FIRST}\n{"id":2,"amount":-1.5,"big":2,"name":"b"}\n{"id":3,"amount":3,"big":3,"name":"c"}\n`,
    );
    const csv = await publish({
      connection: 'rabbit',
      format: { type: 'csv' },
      message: { routingKey: q, send: 'batch' },
    });
    expect(csv.error).toBeNull();
    got = await drainQueue(q);
    expect(got[0]?.content.toString().split(/\r?\n/)[1]).toBe(
      '1,0.123456789012345678901234567890,9007199254740993,"Zoë 🚀 ""q"""',
    );
  });

  it('RabbitMQ: a nack (queue full, reject-publish) fails the step naming the record; what was confirmed stays', async () => {
    const q = await queue({ 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    const r = await publish({ connection: 'rabbit', message: { routingKey: q, inFlight: 1 } });
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('BROKER_REFUSED');
    expect(r.error).toMatch(/^RabbitMQ did not confirm the message of record 2: the broker nacked it$/);
    expect(await drainQueue(q)).toHaveLength(1);
    expect(JSON.stringify(r)).toContain('1 record was confirmed by RabbitMQ before the failure and stay');
  });

  it('RabbitMQ: an unroutable mandatory message fails the step naming the record', async () => {
    const r = await publish({
      connection: 'rabbit',
      message: { exchange: 'amq.direct', routingKey: `nobody-${suffix}-{id}` },
    });
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('BROKER_REFUSED');
    expect(r.error).toMatch(
      /record 1: returned as unroutable: no queue takes routing key 'nobody-[0-9a-f]+-1' on exchange 'amq.direct'/,
    );
  });

  it('Redis: XADD per record and per batch with fields, exact values and MAXLEN', async () => {
    const stream = `itest:${suffix}:orders`;
    const r = await publish({
      connection: 'redis',
      message: { stream: `${stream}:{id}`, id: 'o{id}', key: '{name}', headers: { origin: 'web' } },
    });
    expect(r.error).toBeNull();
    const one = await redis.xrangeBuffer(`${stream}:1`, '-', '+');
    expect(one).toHaveLength(1);
    const fields = (one[0]?.[1] ?? []).map((b) => b.toString('utf8'));
    expect(fields).toEqual([
      'body',
      FIRST,
      'content-type',
      'application/json',
      'key',
      'Zoë 🚀 "q"',
      'id',
      'o1',
      'origin',
      'web',
    ]);
    const batch = await publish({
      connection: 'redis',
      message: { stream, send: 'batch', batchSize: 1, maxLen: 1 },
    });
    expect(batch.error).toBeNull();
    expect(await redis.xlen(stream)).toBeGreaterThanOrEqual(1);
    const last = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    expect(last[0]?.[1].slice(0, 2)).toEqual(['body', '[{"id":3,"amount":3,"big":3,"name":"c"}]']);
    await redis.del(`${stream}:1`, `${stream}:2`, `${stream}:3`, stream);
  });

  it('Redis: a refused XADD (the key is not a stream) fails naming the record', async () => {
    const key = `itest:${suffix}:plain`;
    await redis.set(key, 'x');
    const r = await publish({ connection: 'redis', message: { stream: key } });
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('BROKER_REFUSED');
    expect(r.error).toMatch(
      /^Redis did not confirm the message of record 1: XADD to 'itest:[0-9a-f]+:plain' was refused: WRONGTYPE/,
    );
    await redis.del(key);
  });

  it('an unreachable broker fails the run with CONNECTION_FAILED and the server keeps serving', async () => {
    await f.put('connections', 'rabbit-gone', { type: 'rabbitmq', url: 'amqp://127.0.0.1:1', timeout: 2 });
    await f.put('connections', 'redis-gone', {
      type: 'redis-streams',
      url: 'redis://127.0.0.1:1',
      timeout: 2,
    });
    const a = await publish({ connection: 'rabbit-gone', message: { routingKey: 'x' } });
    expect(a.errorCode).toBe('CONNECTION_FAILED');
    expect(a.error).toMatch(/RabbitMQ: .*ECONNREFUSED/);
    const b = await publish({ connection: 'redis-gone', message: { stream: 'x' } });
    expect(b.errorCode).toBe('CONNECTION_FAILED');
    expect(b.error).toMatch(/Redis: .*ECONNREFUSED/);
    const health = await fetch(`${f.url}/healthz`);
    expect(health.status).toBeLessThan(500);
  });

  /** Starts a long publish (rows from PostgreSQL) and answers its run once `started` says messages flow. */
  async function longPublish(
    to: Record<string, unknown>,
    started: () => Promise<boolean>,
    kill: () => Promise<void>,
  ) {
    const name = `long${++n}`;
    await f.put('flows', name, {
      type: 'transfer',
      steps: [
        { from: { connection: 'pgtarget', query: 'select g as id from generate_series(1, 5000000) g' }, to },
      ],
    });
    const running = f.s.ctx.runs.runSync({ flow: name, params: {}, trigger: 'api', requestedBy: 'test' });
    const deadline = Date.now() + 30000;
    while (!(await started())) {
      if (Date.now() > deadline) throw new Error('no message arrived');
      await new Promise((r) => setTimeout(r, 100));
    }
    await kill();
    return running;
  }

  it('RabbitMQ: connections closed by the broker mid-step fail the run with the reason; the process lives', async () => {
    const q = await queue();
    const r = await longPublish(
      { connection: 'rabbit', message: { routingKey: q } },
      async () => (await ch.checkQueue(q)).messageCount > 0,
      async () => {
        await run('rabbitmqctl', ['close_all_connections', 'test drop']);
      },
    );
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('CONNECTION_FAILED');
    expect(r.error).toMatch(
      /^RabbitMQ did not confirm the message of record \d+: the connection closed \(.*CONNECTION_FORCED - test drop/,
    );
    const health = await fetch(`${f.url}/healthz`);
    expect(health.status).toBeLessThan(500);
  });

  it('Redis: a client killed mid-step fails the run with the reason; the process lives', async () => {
    const stream = `itest:${suffix}:long`;
    const r = await longPublish(
      { connection: 'redis', message: { stream } },
      async () => (await redis.xlen(stream)) > 0,
      async () => {
        const list = String(await redis.client('LIST'));
        for (const line of list.split('\n')) {
          if (/ cmd=xadd/.test(line)) await redis.client('KILL', 'ID', /id=(\d+)/.exec(line)?.[1] ?? '0');
        }
      },
    );
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('CONNECTION_FAILED');
    expect(r.error).toMatch(/^Redis did not confirm the message of record \d+: the connection was lost \(/);
    await redis.del(stream);
    const health = await fetch(`${f.url}/healthz`);
    expect(health.status).toBeLessThan(500);
  });

  it('check and discover; the API never returns the password or the URL', async () => {
    const test = (name: string) =>
      f.s.app
        .inject({ method: 'POST', url: `/rest/v1/connections/${name}/test`, headers: f.admin })
        .then((r) => r.json<{ ok: boolean; message?: string }>());
    expect(await test('rabbit')).toMatchObject({ ok: true });
    expect(await test('redis')).toMatchObject({ ok: true });
    expect(await test('rabbit-gone')).toMatchObject({ ok: false });
    const tables = (name: string) =>
      f.s.app
        .inject({ method: 'GET', url: `/rest/v1/connections/${name}/tables`, headers: f.admin })
        .then((r) => r.json());
    expect(await tables('rabbit')).toEqual([{ schema: 'exchange', name: 'amq.direct', columns: [] }]);
    const stream = `itest:${suffix}:listed`;
    await redis.xadd(stream, '*', 'a', '1');
    expect(await tables('redis')).toContainEqual({ schema: 'stream', name: stream, columns: [] });
    await redis.del(stream);
    await f.put('connections', 'rabbit-url', { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' });
    const shown = await f.s.app.inject({
      method: 'GET',
      url: '/rest/v1/connections/rabbit-url',
      headers: f.admin,
    });
    expect(shown.body).not.toContain('guest@');
    const rabbit = await f.s.app.inject({
      method: 'GET',
      url: '/rest/v1/connections/rabbit',
      headers: f.admin,
    });
    expect(rabbit.json()).toMatchObject({ password: '********' });
    expect(await test('rabbit-url')).toMatchObject({ ok: true });
  });
});
