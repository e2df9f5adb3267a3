/**
 * Exactly once into every database destination: with a dedupe key, a message whose key a destination
 * recorded is not written again, whether the destination is PostgreSQL, MariaDB or SQLite; the keys are
 * committed with the rows, in `integrator_message_keys`. A files destination records none: at least once,
 * and the run's log says so.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import type { SubscriptionStatus } from '../../src/subscriptions/subscription-manager.js';
import { createMariaDatabase } from '../services.js';
import { type SubscriptionFixture, subscriptionFixture } from './fixture.js';

const suffix = randomBytes(4).toString('hex');

describe('dedupe keys per destination', () => {
  let f: SubscriptionFixture;
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  let maria: Awaited<ReturnType<typeof createMariaDatabase>>;
  const queues: string[] = [];

  beforeAll(async () => {
    f = await subscriptionFixture();
    maria = await createMariaDatabase('subs');
    await f.put('connections', 'rabbit', { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' });
    await f.put('connections', 'maria', { type: 'mysql', url: maria.url });
    await f.put('connections', 'lite', { type: 'sqlite', path: 'files/dedupe.db' });
    await f.put('connections', 'out', { type: 'files', root: 'files/out' });
    conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    ch = await conn.createConfirmChannel();
  });
  afterAll(async () => {
    for (const q of queues) await ch?.deleteQueue(q).catch(() => undefined);
    await conn?.close().catch(() => undefined);
    await f?.close();
    await maria?.drop();
  });

  /** Three messages, two with one key: the destination gets two rows; answers the subscription's name. */
  async function land(connection: string, to: Record<string, unknown>): Promise<string> {
    const name = `dd-${connection}`;
    const q = `dedupe-${suffix}-${connection}`;
    queues.push(q);
    await ch.assertQueue(q, { durable: false });
    await f.put('flows', name, {
      type: 'transfer',
      steps: [
        {
          from: { connection: '@message' },
          transforms: [{ type: 'map', select: ['id', 'v'] }],
          to: { connection, ...to },
        },
      ],
    });
    await f.put('subscriptions', name, {
      connection: 'rabbit',
      queue: q,
      flow: name,
      linger: 0.05,
      dedupe: { key: 'order-{id}' },
    });
    const send = async (body: string) => {
      ch.sendToQueue(q, Buffer.from(body), { contentType: 'application/json' });
      await ch.waitForConfirms();
    };
    await send('{"id":1,"v":"first"}');
    await f
      .until('the first ack', async () => (await status(name)).acked === 1)
      .catch(async (err: unknown) => {
        throw new Error(`${String(err)}: ${JSON.stringify(await status(name))}`);
      });
    await send('{"id":1,"v":"again"}');
    await send('{"id":2,"v":"new"}');
    await f.until('all acked', async () => (await status(name)).acked === 3);
    return name;
  }

  const status = async (name: string) =>
    (await f.call<SubscriptionStatus>('GET', `/rest/v1/subscriptions/${name}/status`)).body;

  it('MariaDB records the keys with the rows', async () => {
    const name = await land('maria', { table: 'orders' });
    const db = await mysql.createConnection(maria.url);
    try {
      const [rows] = await db.query('select id, v from orders order by id');
      expect(rows).toEqual([
        { id: 1, v: 'first' },
        { id: 2, v: 'new' },
      ]);
      const [keys] = await db.query(
        'select scope, message_key from integrator_message_keys order by message_key',
      );
      expect(keys).toEqual([
        { scope: `${name}#0`, message_key: 'order-1' },
        { scope: `${name}#0`, message_key: 'order-2' },
      ]);
    } finally {
      await db.end();
    }
  });

  it('SQLite records the keys with the rows', async () => {
    const name = await land('lite', { table: 'orders' });
    const db = new Database(join(f.s.dataDir, 'files/dedupe.db'), { readonly: true });
    try {
      expect(db.prepare('select id, v from orders order by id').all()).toEqual([
        { id: 1, v: 'first' },
        { id: 2, v: 'new' },
      ]);
      expect(
        db.prepare('select scope, message_key from integrator_message_keys order by message_key').all(),
      ).toEqual([
        { scope: `${name}#0`, message_key: 'order-1' },
        { scope: `${name}#0`, message_key: 'order-2' },
      ]);
    } finally {
      db.close();
    }
  });

  it('a files destination records no keys: at least once, said in the run log', async () => {
    const name = await land('out', { file: 'orders.ndjson', mode: 'append', format: { type: 'ndjson' } });
    const runs = (await f.call<Run[]>('GET', `/rest/v1/runs?flow=${name}`)).body;
    const detail = (await f.call<Run>('GET', `/rest/v1/runs/${runs[0]?.id}`)).body;
    expect(detail.log.map((l) => l.message).join('\n')).toMatch(
      /records no message keys; its rows are written at least once/,
    );
    const lines = readFileSync(join(f.s.dataDir, 'files/out/orders.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toEqual(['{"id":1,"v":"first"}', '{"id":1,"v":"again"}', '{"id":2,"v":"new"}']);
  });
});
