/**
 * NATS JetStream subscriptions against the real server: a durable pull consumer created on demand,
 * messages into PostgreSQL with their metadata (JSON and NDJSON by content type), a failing destination
 * (NAK with backoff, the delivery count rising) until it succeeds, dead letters to a subject with the
 * error, and exactly once with a dedupe key template over the body's fields.
 */
import { randomBytes } from 'node:crypto';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriptionStatus } from '../../src/subscriptions/subscription-manager.js';
import { type SubscriptionFixture, subscriptionFixture } from './fixture.js';

const suffix = randomBytes(4).toString('hex');
const STREAM = `SUBS_${suffix}`;
const DEAD = `SUBS_DEAD_${suffix}`;

describe('NATS JetStream subscriptions', () => {
  let f: SubscriptionFixture;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;
  let n = 0;

  beforeAll(async () => {
    f = await subscriptionFixture();
    nc = await connect({ servers: '127.0.0.1:4222' });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    await jsm.streams.add({ name: STREAM, subjects: [`subs.${suffix}.>`] });
    await jsm.streams.add({ name: DEAD, subjects: [`dead.${suffix}`] });
    await f.put('connections', 'nats', { type: 'nats', url: 'nats://127.0.0.1:4222' });
  });
  afterAll(async () => {
    await f?.close();
    await jsm?.streams.delete(STREAM).catch(() => undefined);
    await jsm?.streams.delete(DEAD).catch(() => undefined);
    await nc?.close();
  });

  async function publish(subject: string, body: string, id?: string, contentType = 'application/json') {
    const h = headers();
    h.set('Content-Type', contentType);
    h.set('key', 'the-key');
    await js.publish(`subs.${suffix}.${subject}`, body, { headers: h, ...(id ? { msgID: id } : {}) });
  }

  async function subscribe(
    subject: string,
    table: string,
    extra: Record<string, unknown> = {},
    to: Record<string, unknown> = {},
  ) {
    const name = `nsub${++n}`;
    await f.put('flows', name, {
      type: 'transfer',
      steps: [{ from: { connection: '@message' }, to: { connection: 'pg', table, ...to } }],
    });
    await f.put('subscriptions', name, {
      connection: 'nats',
      stream: STREAM,
      subject: `subs.${suffix}.${subject}`,
      flow: name,
      linger: 0.05,
      ...extra,
    });
    return name;
  }

  const status = async (name: string) =>
    (await f.call<SubscriptionStatus>('GET', `/rest/v1/subscriptions/${name}/status`)).body;

  it('refuses a subscription without a stream, or with RabbitMQ fields', async () => {
    await f.put('flows', 'nflow', {
      type: 'transfer',
      steps: [{ from: { connection: '@message' }, to: { connection: 'pg', table: 'x' } }],
    });
    const res = await f.s.app.inject({
      method: 'PUT',
      url: '/rest/v1/subscriptions/bad',
      headers: f.admin,
      payload: { connection: 'nats', queue: 'q', flow: 'nflow' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual(
      expect.arrayContaining([
        { path: '/stream', message: 'required for nats' },
        { path: '/queue', message: 'does not apply to nats' },
      ]),
    );
    const pgSub = await f.s.app.inject({
      method: 'PUT',
      url: '/rest/v1/subscriptions/bad',
      headers: f.admin,
      payload: { connection: 'pg', queue: 'q', flow: 'nflow' },
    });
    expect(pgSub.json().error.details).toEqual([
      {
        path: '/connection',
        message: 'a postgres connection cannot be subscribed to (use a message broker connection)',
      },
    ]);
  });

  it('lands JSON and NDJSON messages with their metadata through a durable consumer', async () => {
    const table = `nats_rows_${suffix}`;
    const name = await subscribe('orders.*', table);
    await publish('orders.a', '{"id":1,"amount":0.123456789012345678901234567890}', 'o-1');
    await publish(
      'orders.b',
      '{"id":2,"amount":2}\n{"id":3,"amount":3}\n',
      undefined,
      'application/x-ndjson',
    );
    await f.until('3 rows', async () => (await f.count(table)) === 3);
    const { rows } = await f.target.query(
      `select id, amount::text, _message_id, _message_key, _message_source, _message_redeliveries, _message_headers from ${table} order by id`,
    );
    expect(rows[0]).toMatchObject({
      id: '1',
      amount: '0.123456789012345678901234567890',
      _message_id: 'o-1',
      _message_key: 'the-key',
      _message_source: `subs.${suffix}.orders.a`,
      _message_redeliveries: '0',
    });
    expect(rows[1]._message_id).toMatch(new RegExp(`^${STREAM}:\\d+$`));
    const info = await jsm.consumers.info(STREAM, name);
    expect(info.config.ack_policy).toBe('explicit');
    await f.until('acked', async () => (await jsm.consumers.info(STREAM, name)).num_ack_pending === 0);
    expect((await jsm.consumers.info(STREAM, name)).num_pending).toBe(0);
    expect(await status(name)).toMatchObject({ consumed: 2, acked: 2, failed: 0 });
  });

  it('gives a failed message back (NAK with backoff) until its destination takes it, then acks it once', async () => {
    const table = `nats_later_${suffix}`;
    const name = await subscribe(
      'later',
      table,
      { maxAttempts: 100, backoff: { delay: 0.2, factor: 1, max: 0.2 }, metadata: false },
      { create: false },
    );
    await publish('later', '{"id":5}', 'later-5');
    await f.until('two failed attempts', async () => (await status(name)).failed >= 2);
    expect((await status(name)).acked).toBe(0);
    await f.target.query(`create table ${table} (id integer)`);
    await f.until('the row', async () => (await f.count(table)) === 1);
    await f.until('the ack', async () => (await status(name)).acked === 1);
    await f.until(
      'nothing pending',
      async () => (await jsm.consumers.info(STREAM, name)).num_ack_pending === 0,
    );
    expect(await f.count(table)).toBe(1);
  });

  it('dead-letters to a subject after maxAttempts with the error and attempts', async () => {
    const name = await subscribe(
      'poison',
      `nats_missing_${suffix}`,
      {
        maxAttempts: 2,
        backoff: { delay: 0.1, factor: 1, max: 0.1 },
        deadLetter: { connection: 'nats', message: { subject: `dead.${suffix}` } },
      },
      { create: false },
    );
    await publish('poison', '{"id":13}', 'poison-13');
    await f.until('the dead letter', async () => (await jsm.streams.info(DEAD)).state.messages === 1);
    const m = await jsm.streams.getMessage(DEAD, { seq: 1 });
    const body = JSON.parse(Buffer.from(m?.data ?? []).toString()) as Record<string, unknown>;
    expect(body).toMatchObject({ subscription: name, message_id: 'poison-13', body: '{"id":13}' });
    expect(String(body['error'])).toMatch(new RegExp(`nats_missing_${suffix}`));
    expect(body['attempts']).toHaveLength(2);
    await f.until('acked', async () => (await jsm.consumers.info(STREAM, name)).num_ack_pending === 0);
    expect(await status(name)).toMatchObject({ deadLettered: 1 });
  });

  it('with a dedupe key, a message whose key was written before is not written again', async () => {
    const table = `nats_once_${suffix}`;
    const name = await subscribe('once', table, { dedupe: { key: 'order-{id}' }, metadata: false });
    await publish('once', '{"id":21,"v":"first"}', 'a-1');
    await f.until('the row', async () => (await f.count(table)) === 1);
    // Another message (another id) with the same key: a redelivery as far as the key says.
    await publish('once', '{"id":21,"v":"again"}', 'a-2');
    await publish('once', '{"id":22,"v":"new"}', 'a-3');
    await f.until('the new row', async () => (await f.count(table)) === 2);
    await f.until('all acked', async () => (await status(name)).acked === 3);
    const { rows } = await f.target.query(`select id, v from ${table} order by id`);
    expect(rows).toEqual([
      { id: '21', v: 'first' },
      { id: '22', v: 'new' },
    ]);
    const keys = await f.target.query(
      'select scope, message_key from integrator_message_keys where scope like $1 order by message_key',
      [`${name}#%`],
    );
    expect(keys.rows).toEqual([
      { scope: `${name}#0`, message_key: 'order-21' },
      { scope: `${name}#0`, message_key: 'order-22' },
    ]);
  });
});
