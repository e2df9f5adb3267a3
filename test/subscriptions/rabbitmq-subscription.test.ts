/**
 * RabbitMQ subscriptions against the real broker: messages into a PostgreSQL table (JSON, CSV by
 * content type), metadata fields, ack only after the destination committed (a failing destination
 * leaves the message queued until it succeeds), dead letters with the error and attempts (to a table
 * and to a queue), pause and resume, status counters, and the broker closing the connection mid-stream.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriptionStatus } from '../../src/subscriptions/subscription-manager.js';
import { type SubscriptionFixture, subscriptionFixture } from './fixture.js';

const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');

describe('RabbitMQ subscriptions', () => {
  let f: SubscriptionFixture;
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  let n = 0;

  beforeAll(async () => {
    f = await subscriptionFixture();
    await f.put('connections', 'rabbit', { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' });
    conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    ch = await conn.createConfirmChannel();
  });

  const queues: string[] = [];

  afterAll(async () => {
    await f?.close();
    for (const q of queues) await ch?.deleteQueue(q).catch(() => undefined);
    await conn?.close().catch(() => undefined);
  });

  async function queue(): Promise<string> {
    const q = `subs-${suffix}-${++n}`;
    queues.push(q);
    await ch.assertQueue(q, { durable: false, autoDelete: false });
    return q;
  }

  async function publish(q: string, body: string, options: amqp.Options.Publish = {}): Promise<void> {
    ch.sendToQueue(q, Buffer.from(body), { contentType: 'application/json', ...options });
    await ch.waitForConfirms();
  }

  /** A flow from @message into `table`, and a subscription of `q` running it. */
  async function subscribe(
    q: string,
    table: string,
    extra: Record<string, unknown> = {},
    to: Record<string, unknown> = {},
  ) {
    const name = `sub${n}`;
    await f.put('flows', name, {
      type: 'transfer',
      steps: [{ from: { connection: '@message' }, to: { connection: 'pg', table, ...to } }],
    });
    await f.put('subscriptions', name, {
      connection: 'rabbit',
      queue: q,
      flow: name,
      linger: 0.05,
      ...extra,
    });
    return name;
  }

  const status = async (name: string) =>
    (await f.call<SubscriptionStatus>('GET', `/rest/v1/subscriptions/${name}/status`)).body;

  async function settled(q: string): Promise<boolean> {
    const info = await ch.checkQueue(q);
    return info.messageCount === 0;
  }

  it('lands JSON messages with their metadata, and CSV by its content type; acks each', async () => {
    const q = await queue();
    const name = await subscribe(q, `json_${suffix}`);
    await publish(q, '{"id":1,"amount":0.123456789012345678901234567890,"name":"Zoë"}', {
      messageId: 'm-1',
      headers: { key: 'k1', source: 'test' },
      timestamp: 1_700_000_000,
    });
    await publish(q, '[{"id":2,"amount":2,"name":"b"},{"id":3,"amount":3,"name":"c"}]', { messageId: 'm-2' });
    await f.until('3 rows', async () => (await f.count(`json_${suffix}`)) === 3);
    const { rows } = await f.target.query(
      `select id, amount::text, name, _message_id, _message_key, _message_headers, _message_source, _message_timestamp, _message_redeliveries from json_${suffix} order by id`,
    );
    expect(rows[0]).toEqual({
      id: '1',
      amount: '0.123456789012345678901234567890',
      name: 'Zoë',
      _message_id: 'm-1',
      _message_key: 'k1',
      _message_headers: { key: 'k1', source: 'test' },
      _message_source: q,
      _message_timestamp: new Date(1_700_000_000_000),
      _message_redeliveries: '0',
    });
    expect(rows.map((r) => r._message_id)).toEqual(['m-1', 'm-2', 'm-2']);
    expect(await settled(q)).toBe(true);

    const csv = await queue();
    await subscribe(csv, `csv_${suffix}`, { metadata: false });
    await publish(csv, 'id,name\n1,a\n2,b\n', { contentType: 'text/csv' });
    await f.until('2 csv rows', async () => (await f.count(`csv_${suffix}`)) === 2);
    const got = await f.target.query(`select * from csv_${suffix} order by id`);
    expect(got.rows).toEqual([
      { id: '1', name: 'a' },
      { id: '2', name: 'b' },
    ]);
    const st = await status(name);
    expect(st).toMatchObject({ state: 'running', consumed: 2, acked: 2, failed: 0, deadLettered: 0 });
    const runs = await f.call<{ trigger: string; status: string }[]>(
      'GET',
      `/rest/v1/runs?trigger=subscription&flow=${name}`,
    );
    expect(runs.body.length).toBeGreaterThan(0);
    expect(runs.body.every((r) => r.trigger === 'subscription' && r.status === 'succeeded')).toBe(true);
  });

  it('acks only after the destination committed: a failing write leaves the message queued, then it lands once', async () => {
    const q = await queue();
    const table = `later_${suffix}`;
    const name = await subscribe(
      q,
      table,
      { maxAttempts: 100, backoff: { delay: 0.2, factor: 1, max: 0.2 } },
      { create: false },
    );
    await publish(q, '{"id":7}', { messageId: 'late-7' });
    await f.until('a failed attempt', async () => (await status(name)).failed >= 2);
    // Not acked: the broker still holds it (delivered, waiting for redelivery).
    expect((await status(name)).acked).toBe(0);
    expect((await status(name)).lastError).toMatch(new RegExp(table));
    await f.target.query(
      `create table ${table} (id integer, _message_id text, _message_key text, _message_headers jsonb, _message_source text, _message_timestamp timestamptz, _message_redeliveries integer)`,
    );
    await f.until('the row', async () => (await f.count(table)) === 1);
    await f.until('the ack', async () => (await status(name)).acked === 1);
    expect(await settled(q)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await f.count(table)).toBe(1);
    const { rows } = await f.target.query(`select _message_redeliveries from ${table}`);
    expect(Number(rows[0]._message_redeliveries)).toBeGreaterThan(0);
  });

  it('dead-letters after maxAttempts into a table, keeping the error and every attempt, then acks', async () => {
    const q = await queue();
    const dead = `dead_${suffix}`;
    const name = await subscribe(
      q,
      `missing_${suffix}`,
      {
        maxAttempts: 3,
        backoff: { delay: 0.1, factor: 1, max: 0.1 },
        deadLetter: { connection: 'pg', table: dead },
      },
      { create: false },
    );
    await publish(q, '{"id":9}', { messageId: 'poison-9', headers: { key: 'k9' } });
    await f.until('the dead letter', async () => (await f.count(dead)) === 1);
    const { rows } = await f.target.query(`select * from ${dead}`);
    expect(rows[0]).toMatchObject({
      subscription: name,
      message_id: 'poison-9',
      message_key: 'k9',
      source: q,
      body: '{"id":9}',
      body_encoding: 'utf8',
    });
    expect(rows[0].error).toMatch(new RegExp(`missing_${suffix}`));
    expect(rows[0].attempts).toHaveLength(3);
    expect(rows[0].attempts[0]).toMatchObject({ error: rows[0].error });
    await f.until('the ack', async () => await settled(q));
    const st = await status(name);
    expect(st).toMatchObject({ deadLettered: 1, failed: 3 });
    const audit = await f.call<{
      events: { action: string; target: string; details: { messageId: string } }[];
    }>('GET', '/rest/v1/audit?action=subscription.dead_lettered');
    const dl = audit.body.events.find((e) => e.target === name);
    expect(dl?.details).toMatchObject({ messageId: 'poison-9', attempts: 3 });
  });

  it('dead-letters a body that does not parse at once, to a queue, as JSON with the error', async () => {
    const q = await queue();
    const dlq = await queue();
    await subscribe(q, `never_${suffix}`, {
      maxAttempts: 5,
      deadLetter: { connection: 'rabbit', message: { routingKey: dlq } },
    });
    await publish(q, '{"id": oops', { messageId: 'bad-json' });
    let got: amqp.GetMessage | false = false;
    await f.until('the dead letter message', async () => {
      got = await ch.get(dlq, { noAck: true });
      return got !== false;
    });
    const msg = got as unknown as amqp.GetMessage;
    const body = JSON.parse(msg.content.toString()) as Record<string, unknown>;
    expect(body).toMatchObject({ message_id: 'bad-json', body: '{"id": oops', source: q });
    expect(String(body['error'])).toMatch(/message bad-json/);
    expect(await settled(q)).toBe(true);
  });

  it('pause stops consuming everywhere until resume; viewers read status but cannot pause', async () => {
    const q = await queue();
    const table = `paused_${suffix}`;
    const name = await subscribe(q, table);
    const viewer = await f.s.userWithRole('viewer');
    const refused = await f.call('POST', `/rest/v1/subscriptions/${name}/pause`, {
      authorization: viewer.authorization,
    });
    expect(refused.status).toBe(403);
    expect(
      (await f.call('GET', `/rest/v1/subscriptions/${name}/status`, { authorization: viewer.authorization }))
        .status,
    ).toBe(200);
    const operator = await f.s.userWithRole('operator');
    const paused = await f.call<SubscriptionStatus>('POST', `/rest/v1/subscriptions/${name}/pause`, {
      authorization: operator.authorization,
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, state: 'paused', pausedBy: operator.login });
    await publish(q, '{"id":1}');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await ch.checkQueue(q)).messageCount).toBe(1);
    expect(await f.count(table)).toBe(0);
    const resumed = await f.call<SubscriptionStatus>('POST', `/rest/v1/subscriptions/${name}/resume`, {
      authorization: operator.authorization,
    });
    expect(resumed.body.paused).toBe(false);
    await f.until('the row after resume', async () => (await f.count(table)) === 1);
    const audit = await f.call<{ events: { action: string; target: string }[] }>('GET', '/rest/v1/audit');
    const actions = audit.body.events.filter((e) => e.target === name).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'subscription.paused',
        'subscription.resumed',
        'subscription.started',
        'subscription.stopped',
      ]),
    );
  });

  it('follows its definition: a change restarts it, disabled stops it, deleted forgets its pause', async () => {
    const first = await queue();
    const second = await queue();
    const table = `lifecycle_${suffix}`;
    const name = await subscribe(first, table, { metadata: false });
    await publish(first, '{"id":1}');
    await f.until('the first row', async () => (await f.count(table)) === 1);
    await f.put('subscriptions', name, {
      connection: 'rabbit',
      queue: second,
      flow: name,
      linger: 0.05,
      metadata: false,
    });
    await publish(second, '{"id":2}');
    await f.until('the row from the new queue', async () => (await f.count(table)) === 2);
    await f.put('subscriptions', name, { connection: 'rabbit', queue: second, flow: name, enabled: false });
    expect((await status(name)).state).toBe('disabled');
    await publish(second, '{"id":3}');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await f.count(table)).toBe(2);
    expect((await ch.checkQueue(second)).messageCount).toBe(1);
    await f.call('POST', `/rest/v1/subscriptions/${name}/pause`);
    expect((await f.call('DELETE', `/rest/v1/subscriptions/${name}`)).status).toBe(204);
    await f.put('subscriptions', name, {
      connection: 'rabbit',
      queue: second,
      flow: name,
      linger: 0.05,
      metadata: false,
    });
    await f.until('the row after it was made again', async () => (await f.count(table)) === 3);
    expect((await status(name)).paused).toBe(false);
    const audit = await f.call<{
      events: { action: string; target: string; details: { reason?: string } }[];
    }>('GET', '/rest/v1/audit?action=subscription.stopped');
    const reasons = audit.body.events.filter((e) => e.target === name).map((e) => e.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(['changed', 'disabled']));
  });

  it('a connection closed by the broker mid-stream is opened again, and no message is lost', async () => {
    const q = await queue();
    const table = `reconnect_${suffix}`;
    const name = await subscribe(q, table, { batchSize: 50 });
    const total = 2000;
    for (let i = 1; i <= total; i++) ch.sendToQueue(q, Buffer.from(`{"id":${i}}`), { messageId: `r-${i}` });
    await ch.waitForConfirms();
    await f.until('some rows', async () => (await f.count(table)) > 0);
    // Only this subscription's connection: other tests share the broker (and may be closing
    // connections themselves, so it is looked for until it is there).
    let mine: string[] = [];
    let listed = '';
    await f
      .until('its connection', async () => {
        listed = (await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties'])).stdout;
        mine = listed
          .split('\n')
          .filter((line) => line.includes(`:${name}`))
          .map((line) => line.split('\t')[0] ?? '');
        return mine.length > 0;
      })
      .catch((err: unknown) => {
        throw new Error(`${String(err)}; connections:\n${listed}`);
      });
    expect(mine.length).toBe(1);
    for (const pid of mine) await run('rabbitmqctl', ['close_connection', pid, 'test drop']);
    await f.until('every message', async () => await settled(q), 60_000);
    await f.until('the acks', async () => (await status(name)).state === 'running');
    const { rows } = await f.target.query<{ n: number; d: number }>(
      `select count(*)::int n, count(distinct id)::int d from ${table}`,
    );
    // At least once without a dedupe key: every message landed; one batch may have landed twice.
    expect(rows[0]?.d).toBe(total);
    expect(rows[0]?.n).toBeLessThanOrEqual(total + 50);
    expect((await status(name)).lastError).toMatch(/RabbitMQ: .*(closed|CONNECTION_FORCED)/);
  });
});
