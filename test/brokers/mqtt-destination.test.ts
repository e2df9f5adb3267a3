/**
 * MQTT 5 as a destination, through the real server against the real Mosquitto: a message per record and
 * per batch in each format (checked by a plain mqtt client subscribed to the topics: bodies, user
 * properties, content type, QoS), QoS 2, retained messages, a real refusal (PUBACK 135 for $SYS, PUBACK
 * 149 from a private Mosquitto with a message size limit), a refused CONNACK, a connection cut mid-step
 * by a TCP proxy (the shared Mosquitto keeps running), check and discover.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import {
  type PrivateMosquitto,
  startPrivateMosquitto,
  startTcpProxy,
  type TcpProxy,
} from '../helpers/mqtt-broker.js';
import { type ListenerFixture, listenerFixture } from '../listeners/fixture.js';

const suffix = randomBytes(4).toString('hex');
const BASE = `itest/${suffix}`;
const BODY =
  '[{"id":1,"amount":0.123456789012345678901234567890,"big":9007199254740993,"name":"Zoë 🚀 \\"q\\""},' +
  '{"id":2,"amount":-1.5,"big":2,"name":"b"},{"id":3,"amount":3,"big":3,"name":"c"}]';
const FIRST =
  '{"id":1,"amount":0.123456789012345678901234567890,"big":9007199254740993,"name":"Zoë 🚀 \\"q\\""}';

interface Got {
  topic: string;
  body: string;
  qos: number;
  retain: boolean;
  properties: IPublishPacket['properties'];
}

describe('MQTT destination', () => {
  let f: ListenerFixture;
  let sub: MqttClient;
  let priv: PrivateMosquitto;
  let proxy: TcpProxy;
  const got: Got[] = [];
  let n = 0;

  async function publish(to: Record<string, unknown>, body = BODY): Promise<Run> {
    const name = `mqtt${++n}`;
    await f.put('flows', name, { type: 'transfer', steps: [{ from: { connection: '@request' }, to }] });
    await f.put('listeners', name, { path: name, methods: ['POST'], flow: name });
    const res = await f.call(name, {
      method: 'POST',
      headers: { ...f.admin, 'content-type': 'application/json' },
      body,
    });
    const answer = (await res.json()) as { runId?: string; error?: { runId?: string } };
    const id = answer.runId ?? answer.error?.runId;
    if (!id) throw new Error(`listener answered ${res.status} ${JSON.stringify(answer)}`);
    return (await f.s.ctx.runs.get(id)) as Run;
  }

  /** The messages the subscriber received under `prefix`, once `count` arrived. */
  async function received(prefix: string, count: number): Promise<Got[]> {
    const deadline = Date.now() + 10000;
    for (;;) {
      const mine = got.filter((g) => g.topic.startsWith(prefix));
      if (mine.length >= count) return mine;
      if (Date.now() > deadline) throw new Error(`${mine.length} of ${count} messages on ${prefix}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    f = await listenerFixture();
    sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, reconnectPeriod: 0 });
    sub.on('error', () => undefined);
    sub.on('message', (topic, payload, packet) => {
      got.push({
        topic,
        body: payload.toString('utf8'),
        qos: packet.qos,
        retain: packet.retain,
        properties: packet.properties,
      });
    });
    await sub.subscribeAsync(`${BASE}/#`, { qos: 2 });
    priv = await startPrivateMosquitto({ messageSizeLimit: 100, maxPacketSize: 300 });
    proxy = await startTcpProxy(1883);
    await f.put('connections', 'mqtt', {
      type: 'mqtt',
      url: 'mqtt://127.0.0.1:1883',
      clientId: 'itest',
      topics: [`${BASE}/orders/+`],
    });
  });
  afterAll(async () => {
    await sub?.endAsync().catch(() => undefined);
    await proxy?.close();
    await priv?.stop();
    await f?.close();
  });

  it('a message per record at QoS 1: topic, key, id and headers from templates as user properties, exact bytes', async () => {
    const r = await publish({
      connection: 'mqtt',
      message: {
        topic: `${BASE}/orders/{id}`,
        id: '{run_id}-{record}',
        key: 'k{id}',
        headers: { source: 'web', name: '{name}' },
      },
    });
    expect(r.error).toBeNull();
    expect(r.steps[0]).toMatchObject({ rowsWritten: 3 });
    const mine = await received(`${BASE}/orders/`, 3);
    expect(mine.map((m) => m.topic)).toEqual([1, 2, 3].map((i) => `${BASE}/orders/${i}`));
    expect(mine[0]?.body).toBe(FIRST);
    expect(mine[0]?.qos).toBe(1);
    expect(mine[0]?.retain).toBe(false);
    expect(mine[0]?.properties).toMatchObject({
      contentType: 'application/json',
      payloadFormatIndicator: true,
      userProperties: { source: 'web', name: 'Zoë 🚀 "q"', key: 'k1', 'message-id': `${r.id}-1` },
    });
    expect(mine[2]?.body).toBe('{"id":3,"amount":3,"big":3,"name":"c"}');
  });

  it('a message per batch as a JSON array, NDJSON or CSV; QoS 2 arrives as QoS 2', async () => {
    const json = await publish({
      connection: 'mqtt',
      message: { topic: `${BASE}/json`, send: 'batch', batchSize: 2, qos: 2 },
    });
    expect(json.error).toBeNull();
    const j = await received(`${BASE}/json`, 2);
    expect(j.map((m) => m.body)).toEqual([
      `[${FIRST},{"id":2,"amount":-1.5,"big":2,"name":"b"}]`,
      '[{"id":3,"amount":3,"big":3,"name":"c"}]',
    ]);
    expect(j.map((m) => m.qos)).toEqual([2, 2]);
    const nd = await publish({
      connection: 'mqtt',
      format: { type: 'ndjson' },
      message: { topic: `${BASE}/ndjson`, send: 'batch' },
    });
    expect(nd.error).toBeNull();
    const [ndm] = await received(`${BASE}/ndjson`, 1);
    expect(ndm?.properties?.contentType).toBe('application/x-ndjson');
    expect(ndm?.body).toBe(
      `${FIRST}\n{"id":2,"amount":-1.5,"big":2,"name":"b"}\n{"id":3,"amount":3,"big":3,"name":"c"}\n`,
    );
    const csv = await publish({
      connection: 'mqtt',
      format: { type: 'csv' },
      message: { topic: `${BASE}/csv`, send: 'batch' },
    });
    expect(csv.error).toBeNull();
    const [csvm] = await received(`${BASE}/csv`, 1);
    expect(csvm?.properties?.contentType).toMatch(/^text\/csv/);
    expect(csvm?.body.split(/\r?\n/)[1]).toBe(
      '1,0.123456789012345678901234567890,9007199254740993,"Zoë 🚀 ""q"""',
    );
  });

  it('retain: a subscriber that comes later gets the last message of the topic', async () => {
    const topic = `${BASE}/retained`;
    const r = await publish({ connection: 'mqtt', message: { topic, retain: true } });
    expect(r.error).toBeNull();
    const late = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, reconnectPeriod: 0 });
    late.on('error', () => undefined);
    const first = new Promise<{ body: string; retain: boolean }>((resolve) =>
      late.on('message', (_t, payload, packet) =>
        resolve({ body: payload.toString(), retain: packet.retain }),
      ),
    );
    await late.subscribeAsync(topic, { qos: 1 });
    expect(await first).toEqual({ body: '{"id":3,"amount":3,"big":3,"name":"c"}', retain: true });
    // An empty retained message clears it.
    await late.publishAsync(topic, '', { qos: 1, retain: true });
    await late.endAsync();
  });

  it('a publish the broker refuses (PUBACK 135 at QoS 1, PUBREC 135 at QoS 2) fails the step naming the record', async () => {
    for (const qos of [1, 2]) {
      const r = await publish({
        connection: 'mqtt',
        message: { topic: `$SYS/itest-${suffix}/{id}`, qos, inFlight: 1 },
      });
      expect(r.status).toBe('failed');
      expect(r.errorCode).toBe('BROKER_REFUSED');
      expect(r.error).toBe(
        'MQTT did not confirm the message of record 1: the broker refused it: Publish error: Not authorized (reason code 135)',
      );
    }
  });

  it('a message above the broker’s Maximum Packet Size is refused before it is sent; what was confirmed stays', async () => {
    await f.put('connections', 'mqtt-small', { type: 'mqtt', url: `mqtt://127.0.0.1:${priv.openPort}` });
    const body = JSON.stringify([
      { id: 1, v: 'small' },
      { id: 2, v: 'x'.repeat(400) },
    ]);
    const r = await publish({ connection: 'mqtt-small', message: { topic: 'big/{id}', inFlight: 1 } }, body);
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('BROKER_REFUSED');
    expect(r.error).toMatch(
      /^MQTT did not confirm the message of record 2: its PUBLISH packet is 4\d\d bytes; the broker takes at most 300 \(its Maximum Packet Size\)$/,
    );
    expect(JSON.stringify(r)).toContain('1 record was confirmed by MQTT before the failure and stay');
  });

  it('an ack the client cannot read (Mosquitto’s PUBACK 149 for message_size_limit) fails the step, no hang', async () => {
    const body = JSON.stringify([
      { id: 1, v: 'small' },
      { id: 2, v: 'x'.repeat(150) },
    ]);
    const r = await publish({ connection: 'mqtt-small', message: { topic: 'big/{id}', inFlight: 1 } }, body);
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('CONNECTION_FAILED');
    expect(r.error).toBe(
      'MQTT did not confirm the message of record 2: the connection failed (Invalid puback reason code)',
    );
  });

  it('topics that cannot be published to are refused, the template before connecting, a value naming the record', async () => {
    const literal = await publish({ connection: 'mqtt', message: { topic: `${BASE}/#` } });
    expect(literal.errorCode).toBe('VALIDATION_FAILED');
    expect(literal.error).toMatch(/to\.message\.topic: not a topic to publish to: it holds a wildcard/);
    const body = '[{"id":1,"t":"ok"},{"id":2,"t":"a+b"}]';
    const fromData = await publish({ connection: 'mqtt', message: { topic: `${BASE}/v/{t}` } }, body);
    expect(fromData.errorCode).toBe('INVALID_VALUE');
    expect(fromData.error).toMatch(
      /^MQTT did not confirm the message of record 2: topic 'itest\/[0-9a-f]+\/v\/a\+b' is not one a message can be published to: it holds a wildcard/,
    );
    const wrong = await publish({ connection: 'mqtt', message: { topic: 'x', routingKey: 'y' } });
    expect(wrong.error).toMatch(/to.message.routingKey does not apply to a MQTT destination/);
    const reserved = await publish({ connection: 'mqtt', message: { topic: 'x', headers: { key: 'y' } } });
    expect(reserved.error).toMatch(/to.message.headers.key: 'key' is the user property of to.message.key/);
  });

  it('a connection cut mid-step fails the run with CONNECTION_FAILED naming the record; the process lives', async () => {
    await f.put('connections', 'mqtt-proxy', { type: 'mqtt', url: `mqtt://127.0.0.1:${proxy.port}` });
    const name = `long${++n}`;
    await f.put('flows', name, {
      type: 'transfer',
      steps: [
        {
          from: { connection: 'pgtarget', query: 'select g as id from generate_series(1, 5000000) g' },
          to: { connection: 'mqtt-proxy', message: { topic: `${BASE}/long` } },
        },
      ],
    });
    const running = f.s.ctx.runs.runSync({ flow: name, params: {}, trigger: 'api', requestedBy: 'test' });
    await received(`${BASE}/long`, 1);
    proxy.cut();
    const r = await running;
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('CONNECTION_FAILED');
    expect(r.error).toMatch(/^MQTT did not confirm the message of record \d+: the connection was lost/);
    expect(JSON.stringify(r)).toMatch(/\d+ records were confirmed by MQTT before the failure/);
    const health = await fetch(`${f.url}/healthz`);
    expect(health.status).toBeLessThan(500);
    // The shared broker still takes publishes through the same connection settings.
    const again = await publish({ connection: 'mqtt-proxy', message: { topic: `${BASE}/after` } });
    expect(again.error).toBeNull();
  });

  it('check, a refused CONNACK, an unreachable broker, discover; the URL and password are not returned', async () => {
    await f.put('connections', 'mqtt-refused', {
      type: 'mqtt',
      url: `mqtt://127.0.0.1:${priv.refusingPort}`,
      username: 'nobody',
      password: 'wrong-secret',
    });
    await f.put('connections', 'mqtt-gone', { type: 'mqtt', url: 'mqtt://127.0.0.1:1', timeout: 2 });
    const test = (name: string) =>
      f.s.app
        .inject({ method: 'POST', url: `/rest/v1/connections/${name}/test`, headers: f.admin })
        .then((res) => res.json<{ ok: boolean; message?: string }>());
    expect(await test('mqtt')).toMatchObject({ ok: true });
    const refused = await test('mqtt-refused');
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/MQTT: the broker refused the connection: .*(reason code 13[45])/);
    expect(JSON.stringify(refused)).not.toContain('wrong-secret');
    const gone = await test('mqtt-gone');
    expect(gone).toMatchObject({ ok: false });
    expect(gone.message).toMatch(/MQTT: .*ECONNREFUSED/);
    const r = await publish({ connection: 'mqtt-refused', message: { topic: 'x' } });
    expect(r.errorCode).toBe('CONNECTION_FAILED');
    expect(r.error).toMatch(/^MQTT: the broker refused the connection: /);
    const tables = await f.s.app.inject({
      method: 'GET',
      url: '/rest/v1/connections/mqtt/tables',
      headers: f.admin,
    });
    expect(tables.json()).toEqual([{ schema: 'topic', name: `${BASE}/orders/+`, columns: [] }]);
    const shown = await f.s.app.inject({
      method: 'GET',
      url: '/rest/v1/connections/mqtt-refused',
      headers: f.admin,
    });
    expect(shown.json()).toMatchObject({ url: '********', password: '********' });
    expect(shown.body).not.toContain('wrong-secret');
    const health = await fetch(`${f.url}/healthz`);
    expect(health.status).toBeLessThan(500);
  });
});
