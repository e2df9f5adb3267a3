/**
 * Consuming a RabbitMQ queue: a channel with a prefetch of `maxUnacked` and manual acks. A message is
 * acked when its delivery's ack is called (a batch's acks go together: RabbitAcks); one given back is
 * nacked with requeue after its delay; a lost connection requeues every message not acked, so nothing
 * is lost, and the caller opens another.
 */
import { createHash } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { AppError } from '../../core/errors.js';
import { connectionFailed } from './broker-config.js';
import { type ConsumeSpec, type Delivery, DeliveryBuffer, type MessageConsumer } from './message-consumer.js';
import { RabbitAcks } from './rabbitmq-acks.js';

const BROKER = 'RabbitMQ';

function headerText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/**
 * How often the message was delivered before: quorum queues count it (x-delivery-count), classic
 * queues only flag a redelivery.
 */
function redeliveries(msg: ConsumeMessage): number {
  const count: unknown = msg.properties.headers?.['x-delivery-count'];
  if (typeof count === 'number') return count;
  return msg.fields.redelivered ? 1 : 0;
}

export async function openRabbitConsumer(
  open: () => Promise<ChannelModel>,
  spec: ConsumeSpec,
): Promise<MessageConsumer> {
  const queue = spec.queue;
  if (queue === undefined)
    throw new AppError('VALIDATION_FAILED', 'A rabbitmq subscription needs a queue', {
      details: [{ path: '/queue', message: 'required for rabbitmq' }],
    });
  const conn = await open();
  const buffer = new DeliveryBuffer();
  const timers = new Set<NodeJS.Timeout>();
  const lost = (why: string, err?: Error) =>
    buffer.fail(
      new AppError('CONNECTION_FAILED', `${BROKER}: ${why}${err?.message ? ` (${err.message})` : ''}`),
    );
  conn.on('error', (err: Error) => lost('the connection failed', err));
  conn.on('close', (err?: Error) => lost('the connection closed', err));
  let ch: Channel;
  try {
    ch = await conn.createChannel();
    ch.on('error', (err: Error) => setImmediate(() => lost('the channel closed', err)));
    ch.on('close', () => setImmediate(() => lost('the channel closed')));
    await ch.prefetch(spec.maxUnacked);
    await ch.checkQueue(queue);
  } catch (err) {
    await conn.close().catch(() => undefined);
    if (err instanceof Error && /NOT_FOUND/.test(err.message))
      throw new AppError('NOT_FOUND', `${BROKER}: queue '${queue}' does not exist`, { cause: err });
    throw connectionFailed(BROKER, err);
  }
  // An ack on a closed channel cannot reach the broker, which requeues the message itself.
  const acks = new RabbitAcks(ch, () => {
    if (buffer.failed) throw buffer.failed;
  });
  const ack = (msg: ConsumeMessage) =>
    acks.ack(msg).catch((err: unknown) => {
      throw err === buffer.failed ? err : connectionFailed(BROKER, err);
    });
  const toDelivery = (msg: ConsumeMessage): Delivery => {
    const props = msg.properties;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(props.headers ?? {})) {
      if (v !== undefined && v !== null && k !== 'x-delivery-count') headers[k] = headerText(v);
    }
    const messageId: unknown = props.messageId;
    const timestamp: unknown = props.timestamp;
    const contentType: unknown = props.contentType;
    return {
      message: {
        // Without a message id a message is known by its content, the one thing a redelivery keeps.
        id:
          typeof messageId === 'string' && messageId !== ''
            ? messageId
            : `sha256:${createHash('sha256').update(msg.content).digest('hex')}`,
        key: headers['key'] ?? null,
        headers,
        source: queue,
        timestamp: typeof timestamp === 'number' ? new Date(timestamp * 1000) : null,
        redeliveries: redeliveries(msg),
        body: msg.content,
        contentType: typeof contentType === 'string' ? contentType : null,
      },
      ack: () => ack(msg),
      retry: async (delayMs) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!buffer.failed) {
            try {
              ch.nack(msg, false, true);
              acks.nacked(msg);
            } catch {
              // The channel closed meanwhile: the broker requeued the message already.
            }
          }
        }, delayMs);
        timers.add(timer);
      },
    };
  };
  try {
    await ch.consume(
      queue,
      (msg) => {
        // null: the queue was deleted or the consumer cancelled by the broker.
        if (msg === null) lost(`the consumer of queue '${queue}' was cancelled by the broker`);
        else {
          acks.delivered(msg);
          buffer.push(toDelivery(msg));
        }
      },
      { noAck: false },
    );
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw connectionFailed(BROKER, err);
  }
  return {
    receive: (max, lingerMs, signal) => buffer.receive(max, lingerMs, signal),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      buffer.fail(new AppError('CONNECTION_FAILED', `${BROKER}: the consumer was closed`));
      // Closing the connection requeues whatever was delivered and not acked.
      await conn.close().catch(() => undefined);
    },
  };
}
