/**
 * The MQTT side of a message destination: each message is one PUBLISH at QoS 1 or 2, settled when the
 * broker's PUBACK (QoS 1) or PUBCOMP (QoS 2) came back. A PUBACK or PUBREC with a failure reason code is
 * the broker refusing the message; a connection that ends fails every message still waiting.
 */
import type { IClientPublishOptions } from 'mqtt';
import { AppError } from '../../core/errors.js';
import { lost } from './broker-config.js';
import type { OutMessage, Publisher } from './message-writer.js';
import { BROKER, hasReasonCode, type OpenClient, reasonText, topicProblem } from './mqtt-client.js';

/** User property names the writer sets itself; headers may not take them. */
export const MQTT_RESERVED = new Set(['key', 'message-id']);

const TEXT = /^(text\/|application\/(json|x-ndjson|xml)$|[^;]*\+(json|xml)$)/;

const varint = (n: number) => (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4);

/** The bytes of a QoS 1/2 PUBLISH packet (MQTT 5 §3.3), to hold it against the broker's maximum. */
function packetSize(topic: string, body: Buffer, props: Record<string, unknown>): number {
  let p = 0;
  for (const [name, value] of Object.entries(props)) {
    if (name === 'payloadFormatIndicator') p += 2;
    else if (typeof value === 'string') p += 3 + Buffer.byteLength(value);
    else if (typeof value === 'object' && value !== null)
      for (const [k, v] of Object.entries(value))
        p += 5 + Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  const remaining = 2 + Buffer.byteLength(topic) + 2 + varint(p) + p + body.length;
  return 1 + varint(remaining) + remaining;
}

interface Waiting {
  send(): void;
  reject(err: Error): void;
}

export function mqttPublisher(
  open: OpenClient,
  topic: string,
  qos: 1 | 2,
  retain: boolean,
  inFlight: number,
): Publisher {
  const { client } = open;
  // MQTT 5 §4.9: the client sends at most Receive Maximum QoS 1/2 publishes before their acks.
  const window = Math.max(1, Math.min(inFlight, open.receiveMaximum));
  let active = 0;
  const pending = new Set<Waiting>();
  // A queue with a moving head: shift() on a long array copies it.
  let queued: Waiting[] = [];
  let head = 0;
  open.onEnd((err) => {
    for (const w of [...pending, ...queued.slice(head)]) w.reject(lost(err));
    pending.clear();
    queued = [];
    head = 0;
  });
  const next = () => {
    while (active < window && head < queued.length) {
      const w = queued[head++];
      w?.send();
    }
    if (head > 1024 && head * 2 > queued.length) {
      queued = queued.slice(head);
      head = 0;
    }
  };
  // Acks that arrive together free their slots first, then the messages waiting for them go out in
  // one burst (one socket write) instead of one write per ack.
  let scheduled = false;
  const nextSoon = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      next();
    });
  };
  // A topic without a template and messages without user properties share one topic check and one
  // options object (mqtt.js copies what it keeps).
  const fixedTopic = topic.includes('{') ? undefined : topic;
  let shared: { contentType: string; opts: IClientPublishOptions } | undefined;
  const optionsFor = (m: OutMessage): IClientPublishOptions => {
    const plain = m.key === undefined && m.id === undefined && Object.keys(m.headers).length === 0;
    if (plain && shared?.contentType === m.contentType) return shared.opts;
    const userProperties: Record<string, string> = { ...m.headers };
    if (m.key !== undefined) userProperties['key'] = m.key;
    if (m.id !== undefined) userProperties['message-id'] = m.id;
    const opts: IClientPublishOptions = {
      qos,
      retain,
      properties: {
        contentType: m.contentType,
        ...(TEXT.test(m.contentType) ? { payloadFormatIndicator: true } : {}),
        ...(plain ? {} : { userProperties }),
      },
    };
    if (plain) shared = { contentType: m.contentType, opts };
    return opts;
  };
  return {
    broker: BROKER,
    publish: (m: OutMessage) =>
      new Promise<void>((resolve, reject) => {
        const ended = open.ended();
        if (ended) return reject(lost(ended));
        const t = fixedTopic ?? m.expand(topic, 'topic');
        // A fixed topic was checked when the writer opened.
        const problem = fixedTopic === undefined ? topicProblem(t) : undefined;
        if (problem)
          return reject(
            new AppError(
              'INVALID_VALUE',
              `topic '${t}' is not one a message can be published to: ${problem}`,
            ),
          );
        const opts = optionsFor(m);
        const max = open.maximumPacketSize;
        if (max !== undefined && opts.properties) {
          const size = packetSize(t, m.body, opts.properties);
          if (size > max)
            return reject(
              new AppError(
                'BROKER_REFUSED',
                `its PUBLISH packet is ${size} bytes; the broker takes at most ${max} (its Maximum Packet Size)`,
              ),
            );
        }
        const w: Waiting = {
          send() {
            active++;
            pending.add(w);
            client.publish(t, m.body, opts, (err) => {
              if (!pending.delete(w)) return;
              active--;
              if (!err) resolve();
              else if (hasReasonCode(err))
                reject(new AppError('BROKER_REFUSED', `the broker refused it: ${reasonText(err)}`));
              else reject(lost(open.ended() ?? err));
              nextSoon();
            });
          },
          reject(err) {
            reject(err);
          },
        };
        queued.push(w);
        next();
      }),
    close: () => open.close(),
  };
}
