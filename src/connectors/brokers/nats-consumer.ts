/**
 * Consuming a NATS JetStream stream through a durable pull consumer (created when missing, with
 * explicit acks): messages are pulled `maxUnacked` at a time into a buffer, each acked with a double
 * ack (the server confirms it) when its delivery's ack is called, and given back with a NAK and its
 * delay. A message not acked within `ack_wait` (its consumer died) is redelivered by the server, to
 * this process or another sharing the durable consumer: competing consumers.
 */
import type { ConsumerConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AppError } from '../../core/errors.js';
import { connectionFailed } from './broker-config.js';
import { type ConsumeSpec, type Delivery, DeliveryBuffer, type MessageConsumer } from './message-consumer.js';

type JetStreamLib = typeof import('@nats-io/jetstream');
type JsMsg = import('@nats-io/jetstream').JsMsg;

const BROKER = 'NATS JetStream';

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}

export async function openNatsConsumer(
  open: () => Promise<NatsConnection>,
  lib: JetStreamLib,
  spec: ConsumeSpec,
  timeoutMs: number,
): Promise<MessageConsumer> {
  const stream = spec.stream;
  const durable = spec.consumer;
  if (stream === undefined || durable === undefined)
    throw new AppError('VALIDATION_FAILED', 'A nats subscription needs a stream', {
      details: [{ path: '/stream', message: 'required for nats' }],
    });
  const nc = await open();
  const buffer = new DeliveryBuffer();
  let messages: Awaited<ReturnType<import('@nats-io/jetstream').Consumer['consume']>> | undefined;
  try {
    const jsm = await lib.jetstreamManager(nc, { timeout: timeoutMs });
    try {
      await jsm.streams.info(stream);
    } catch (err) {
      if (isNotFound(err))
        throw new AppError('NOT_FOUND', `${BROKER}: stream '${stream}' does not exist`, { cause: err });
      throw err;
    }
    try {
      await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const config: Partial<ConsumerConfig> = {
        durable_name: durable,
        ack_policy: lib.AckPolicy.Explicit,
        deliver_policy: lib.DeliverPolicy.All,
        ack_wait: spec.ackWait * 1_000_000_000,
        max_deliver: -1,
        max_ack_pending: spec.maxUnacked,
        ...(spec.subject !== undefined ? { filter_subject: spec.subject } : {}),
      };
      await jsm.consumers.add(stream, config).catch(async (addErr: unknown) => {
        // Another process created it meanwhile.
        await jsm.consumers.info(stream, durable).catch(() => {
          throw addErr;
        });
      });
    }
    const consumer = await lib.jetstream(nc, { timeout: timeoutMs }).consumers.get(stream, durable);
    messages = await consumer.consume({ max_messages: spec.maxUnacked });
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw connectionFailed(BROKER, err);
  }
  const lost = (why: string) => buffer.fail(new AppError('CONNECTION_FAILED', `${BROKER}: ${why}`));
  nc.closed()
    .then((err) => lost(`the connection closed${err ? ` (${err.message})` : ''}`))
    .catch(() => lost('the connection closed'));
  const toDelivery = (m: JsMsg): Delivery => {
    const headers: Record<string, string> = {};
    for (const k of m.headers?.keys() ?? []) headers[k] = m.headers?.get(k) ?? '';
    const id = headers['Nats-Msg-Id'];
    return {
      message: {
        // The stream sequence names a message for good: redeliveries keep it.
        id: id !== undefined && id !== '' ? id : `${stream}:${m.seq}`,
        key: headers['key'] ?? null,
        headers,
        source: m.subject,
        timestamp: m.time,
        redeliveries: Math.max(0, m.info.deliveryCount - 1),
        body: Buffer.from(m.data),
        contentType: headers['Content-Type'] ?? null,
      },
      async ack() {
        if (buffer.failed) throw buffer.failed;
        let ok: boolean;
        try {
          ok = await m.ackAck({ timeout: timeoutMs });
        } catch (err) {
          throw connectionFailed(BROKER, err);
        }
        if (!ok)
          throw new AppError(
            'CONNECTION_FAILED',
            `${BROKER}: the ack of ${stream}:${m.seq} was not confirmed`,
          );
      },
      async retry(delayMs) {
        try {
          m.nak(delayMs);
        } catch {
          // The connection is gone: the server redelivers after ack_wait.
        }
      },
    };
  };
  const pump = async (iter: NonNullable<typeof messages>) => {
    try {
      for await (const m of iter) buffer.push(toDelivery(m));
      lost('the consumer stopped');
    } catch (err) {
      lost(`the consumer failed (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  void pump(messages);
  return {
    receive: (max, lingerMs, signal) => buffer.receive(max, lingerMs, signal),
    async close() {
      buffer.fail(new AppError('CONNECTION_FAILED', `${BROKER}: the consumer was closed`));
      await messages?.close().catch(() => undefined);
      // Messages pulled and not acked are redelivered after ack_wait.
      await nc.close().catch(() => undefined);
    },
  };
}
