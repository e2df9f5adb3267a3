/**
 * The consuming side of a broker connection, the one shape every broker implements (the Benthos input
 * model): a consumer hands out deliveries in batches, and each delivery carries its own ack. A message
 * is acknowledged only when its `ack` is called, which a subscription does after the flow's destination
 * committed; until then the broker keeps it, and redelivers it when the consumer's connection is lost
 * or it is given back with `retry`.
 */

/** What a subscription asks a broker connection to consume. */
export interface ConsumeSpec {
  /** RabbitMQ: the queue. */
  queue?: string;
  /** NATS JetStream and Redis Streams: the stream. */
  stream?: string;
  /** NATS JetStream: the durable consumer (created when missing). */
  consumer?: string;
  /** NATS JetStream: the subjects of the stream the consumer takes (when it is created). */
  subject?: string;
  /** Redis Streams: the consumer group (created at the stream's end when missing). */
  group?: string;
  /** MQTT: the topic filter. */
  topic?: string;
  /** The most messages given out and not yet acknowledged (RabbitMQ prefetch, JetStream max_ack_pending). */
  maxUnacked: number;
  /**
   * Seconds a delivered message may stay unacknowledged before the broker gives it to another consumer
   * (JetStream ack_wait, the idle time after which Redis pending entries are claimed).
   */
  ackWait: number;
  /** Names this consumer among competing ones (Redis consumer name). */
  consumerName: string;
}

/** One message as the broker delivered it. */
export interface InMessage {
  /** Stable across redeliveries: the publisher's message id, or the broker's position of the message. */
  id: string;
  key: string | null;
  headers: Record<string, string>;
  /** The queue (RabbitMQ), subject (NATS) or stream (Redis) it came from. */
  source: string;
  timestamp: Date | null;
  /** How often the broker delivered it before (0 the first time, as far as the broker can tell). */
  redeliveries: number;
  body: Buffer;
  contentType: string | null;
}

export interface Delivery {
  message: InMessage;
  /** Settles the message: the broker will not deliver it again. */
  ack(): Promise<void>;
  /** Gives the message back, to be delivered again no sooner than `delayMs` from now. */
  retry(delayMs: number): Promise<void>;
}

export interface MessageConsumer {
  /**
   * Waits until at least one message is there (or `signal` aborts: then answers what it has, maybe
   * nothing), then up to `lingerMs` more while fewer than `max` are. Throws CONNECTION_FAILED when the
   * connection is lost; the caller closes the consumer and opens another (unacked messages are
   * redelivered by the broker).
   */
  receive(max: number, lingerMs: number, signal: AbortSignal): Promise<Delivery[]>;
  /** Closes the connection; messages not acknowledged by then go back to the broker. */
  close(): Promise<void>;
}

/** A connector that can consume: offered by broker connections. */
export interface Consumable {
  consume(spec: ConsumeSpec): Promise<MessageConsumer>;
}

/**
 * A buffer of pushed deliveries (brokers that push: RabbitMQ, MQTT) with the waiting logic of
 * `receive`: the first message, then the linger.
 */
export class DeliveryBuffer {
  private readonly items: Delivery[] = [];
  /** Receivers waiting (several when a subscription runs batches concurrently): all are woken. */
  private readonly wakers = new Set<() => void>();
  private failure: Error | undefined;

  push(d: Delivery): void {
    this.items.push(d);
    this.notify();
  }

  /** Ends the buffer: waiting and later receives throw `err` once the buffered deliveries are taken. */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  private notify(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const w of wakers) w();
  }

  private wait(ms: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakers.add(done);
    });
  }

  async receive(max: number, lingerMs: number, signal: AbortSignal): Promise<Delivery[]> {
    while (this.items.length === 0) {
      if (this.failure) throw this.failure;
      if (signal.aborted) return [];
      await this.wait(undefined, signal);
    }
    const until = Date.now() + lingerMs;
    while (this.items.length < max && !this.failure && !signal.aborted) {
      const left = until - Date.now();
      if (left <= 0) break;
      await this.wait(left, signal);
    }
    return this.items.splice(0, max);
  }

  /** Deliveries not handed out yet (given back to the broker when the consumer closes). */
  drain(): Delivery[] {
    return this.items.splice(0);
  }
}
