/**
 * Acks of one RabbitMQ channel, coalesced: the acks asked for in the same tick go out together, and
 * when they are the oldest deliveries the channel has not settled they go as one `basic.ack` with
 * `multiple` (every delivery up to that tag). A delivery that another batch still holds, or one held for
 * its backoff, is never covered: the acks after it go one by one. Each ack's promise settles when its
 * frame was written.
 */
import type { Channel, ConsumeMessage } from 'amqplib';

export class RabbitAcks {
  /** Deliveries in the order the channel gave them (delivery tags rise), not yet settled. */
  private readonly open: ConsumeMessage[] = [];
  private head = 0;
  /** Tags settled out of order (acked alone or nacked); skipped when they come to the front. */
  private readonly settled = new Set<number>();
  private wanted: { msg: ConsumeMessage; done: () => void; fail: (err: unknown) => void }[] = [];

  constructor(
    private readonly ch: Channel,
    private readonly check: () => void,
  ) {}

  delivered(msg: ConsumeMessage): void {
    this.open.push(msg);
  }

  ack(msg: ConsumeMessage): Promise<void> {
    return new Promise((done, fail) => {
      if (this.wanted.length === 0) queueMicrotask(() => this.flush());
      this.wanted.push({ msg, done, fail });
    });
  }

  /** A delivery given back (`nack` with requeue) by the caller: not to be covered by a later ack. */
  nacked(msg: ConsumeMessage): void {
    this.settled.add(msg.fields.deliveryTag);
  }

  private flush(): void {
    const wanted = this.wanted;
    this.wanted = [];
    try {
      this.check();
      const tags = new Map(wanted.map((w) => [w.msg.fields.deliveryTag, w.msg]));
      let last: ConsumeMessage | undefined;
      let covered = 0;
      for (;;) {
        const m = this.open[this.head];
        if (m === undefined) break;
        const tag = m.fields.deliveryTag;
        if (this.settled.delete(tag)) this.head++;
        else if (tags.delete(tag)) {
          last = m;
          covered++;
          this.head++;
        } else break;
      }
      if (this.head > 4096) {
        this.open.splice(0, this.head);
        this.head = 0;
      }
      if (last) this.ch.ack(last, covered > 1);
      for (const [tag, m] of tags) {
        this.ch.ack(m);
        this.settled.add(tag);
      }
    } catch (err) {
      for (const w of wanted) w.fail(err);
      return;
    }
    for (const w of wanted) w.done();
  }
}
