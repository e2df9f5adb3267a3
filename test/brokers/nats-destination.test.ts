/**
 * NATS JetStream as a destination, through the real server against the real NATS: a message per record
 * and per batch with headers and exact values, JetStream de-duplication by message id across a re-run,
 * a subject no stream captures, an unreachable server, check and discover.
 */
import { randomBytes } from 'node:crypto';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/runs/run-types.js';
import { type ListenerFixture, listenerFixture } from '../listeners/fixture.js';

const suffix = randomBytes(4).toString('hex');
const STREAM = `ITEST_${suffix}`;
const SUBJECTS = `itest.${suffix}.>`;
const BODY =
  '[{"id":1,"amount":0.123456789012345678901234567890,"big":9007199254740993,"name":"Zoë 🚀"},' +
  '{"id":2,"amount":-1.5,"big":2,"name":"b"},{"id":3,"amount":3,"big":3,"name":"c"}]';
const FIRST = '{"id":1,"amount":0.123456789012345678901234567890,"big":9007199254740993,"name":"Zoë 🚀"}';

describe('NATS JetStream destination', () => {
  let f: ListenerFixture;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let n = 0;

  async function publish(to: Record<string, unknown>): Promise<Run> {
    const name = `nats${++n}`;
    await f.put('flows', name, { type: 'transfer', steps: [{ from: { connection: '@request' }, to }] });
    await f.put('listeners', name, { path: name, methods: ['POST'], flow: name });
    const res = await f.call(name, {
      method: 'POST',
      headers: { ...f.admin, 'content-type': 'application/json' },
      body: BODY,
    });
    const answer = (await res.json()) as { runId?: string; error?: { runId?: string } };
    const id = answer.runId ?? answer.error?.runId;
    if (!id) throw new Error(`listener answered ${res.status} ${JSON.stringify(answer)}`);
    return (await f.s.ctx.runs.get(id)) as Run;
  }

  beforeAll(async () => {
    f = await listenerFixture();
    nc = await connect({ servers: '127.0.0.1:4222' });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: [SUBJECTS] });
    await f.put('connections', 'nats', { type: 'nats', url: 'nats://127.0.0.1:4222' });
  });
  afterAll(async () => {
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await nc.close();
    await f.close();
  });

  it('a message per record: subject and headers from templates, exact bytes, acked; a re-run is de-duplicated by id', async () => {
    const to = {
      connection: 'nats',
      message: {
        subject: `itest.${suffix}.orders.{id}`,
        id: 'order-{id}',
        key: 'k{id}',
        headers: { run: '{run_id}' },
      },
    };
    const r = await publish(to);
    expect(r.error).toBeNull();
    expect(r.steps[0]).toMatchObject({ rowsWritten: 3 });
    const m = await jsm.streams.getMessage(STREAM, { seq: 1 });
    expect(m?.subject).toBe(`itest.${suffix}.orders.1`);
    expect(Buffer.from(m?.data ?? []).toString('utf8')).toBe(FIRST);
    expect(m?.header.get('Nats-Msg-Id')).toBe('order-1');
    expect(m?.header.get('key')).toBe('k1');
    expect(m?.header.get('run')).toBe(r.id);
    expect(m?.header.get('Content-Type')).toBe('application/json');
    const again = await publish(to);
    expect(again.error).toBeNull();
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(3);
  });

  it('a message per batch as NDJSON', async () => {
    const before = (await jsm.streams.info(STREAM)).state.last_seq;
    const r = await publish({
      connection: 'nats',
      format: { type: 'ndjson' },
      message: { subject: `itest.${suffix}.bulk`, send: 'batch', batchSize: 2 },
    });
    expect(r.error).toBeNull();
    const m = await jsm.streams.getMessage(STREAM, { seq: before + 2 });
    expect(Buffer.from(m?.data ?? []).toString('utf8')).toBe('{"id":3,"amount":3,"big":3,"name":"c"}\n');
    expect(m?.header.get('Content-Type')).toBe('application/x-ndjson');
  });

  it('a subject no stream captures fails the step naming the record; other brokers\u2019 options are refused', async () => {
    const r = await publish({ connection: 'nats', message: { subject: `nostream.${suffix}.{id}` } });
    expect(r.status).toBe('failed');
    expect(r.errorCode).toBe('BROKER_REFUSED');
    expect(r.error).toMatch(
      /^NATS JetStream did not confirm the message of record 1: publish to 'nostream\.[0-9a-f]+\.1' was refused: /,
    );
    const wrong = await publish({ connection: 'nats', message: { subject: 'x', routingKey: 'y' } });
    expect(wrong.error).toMatch(/to.message.routingKey does not apply to a NATS JetStream destination/);
  });

  it('an unreachable server fails with CONNECTION_FAILED; check and discover; the URL is not returned', async () => {
    await f.put('connections', 'nats-gone', { type: 'nats', url: 'nats://127.0.0.1:1', timeout: 2 });
    const r = await publish({ connection: 'nats-gone', message: { subject: 'x' } });
    expect(r.errorCode).toBe('CONNECTION_FAILED');
    expect(r.error).toMatch(/^NATS JetStream: /);
    const test = (name: string) =>
      f.s.app
        .inject({ method: 'POST', url: `/rest/v1/connections/${name}/test`, headers: f.admin })
        .then((res) => res.json<{ ok: boolean }>());
    expect(await test('nats')).toMatchObject({ ok: true });
    expect(await test('nats-gone')).toMatchObject({ ok: false });
    const tables = await f.s.app.inject({
      method: 'GET',
      url: '/rest/v1/connections/nats/tables',
      headers: f.admin,
    });
    expect(tables.json()).toContainEqual({
      schema: 'stream',
      name: STREAM,
      columns: [{ name: SUBJECTS, type: 'text', nullable: true }],
    });
    const shown = await f.s.app.inject({ method: 'GET', url: '/rest/v1/connections/nats', headers: f.admin });
    expect(shown.json()).toMatchObject({ url: '********' });
  });
});
