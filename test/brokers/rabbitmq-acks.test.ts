import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { RabbitAcks } from '../../src/connectors/brokers/rabbitmq-acks.js';

/** A channel that records its acks as `tag` or `tag+` (multiple). */
function fake() {
  const sent: string[] = [];
  const ch = {
    ack(m: ConsumeMessage, allUpTo?: boolean) {
      sent.push(`${m.fields.deliveryTag}${allUpTo ? '+' : ''}`);
    },
  } as unknown as Channel;
  const msgs = Array.from(
    { length: 10 },
    (_, i) => ({ fields: { deliveryTag: i + 1 } }) as unknown as ConsumeMessage,
  );
  const at = (tag: number) => msgs[tag - 1] as ConsumeMessage;
  return { sent, ch, at, msgs };
}

describe('RabbitMQ acks coalesced', () => {
  it('acks the oldest open deliveries with one multiple ack, others one by one', async () => {
    const { sent, ch, at, msgs } = fake();
    const acks = new RabbitAcks(ch, () => undefined);
    for (const m of msgs) acks.delivered(m);
    // Another batch holds 1–3: 4–6 must not cover them.
    await Promise.all([4, 5, 6].map((t) => acks.ack(at(t))));
    expect(sent).toEqual(['4', '5', '6']);
    // 1–3 come next: 1–6 are settled, one multiple ack on 3 covers 1–3 only.
    await Promise.all([3, 1, 2].map((t) => acks.ack(at(t))));
    expect(sent.slice(3)).toEqual(['3+']);
    // 7 is held for its backoff and nacked later; 8–9 go alone meanwhile, 10 after the nack with one.
    await Promise.all([8, 9].map((t) => acks.ack(at(t))));
    expect(sent.slice(4)).toEqual(['8', '9']);
    acks.nacked(at(7));
    await acks.ack(at(10));
    expect(sent.slice(6)).toEqual(['10']);
  });

  it('fails the acks of a tick when the channel is gone, sending nothing', async () => {
    const { sent, ch, at, msgs } = fake();
    const gone = new Error('the channel closed');
    const acks = new RabbitAcks(ch, () => {
      throw gone;
    });
    for (const m of msgs) acks.delivered(m);
    const r = await Promise.allSettled([acks.ack(at(1)), acks.ack(at(2))]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(sent).toEqual([]);
  });
});
