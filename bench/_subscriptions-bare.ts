/**
 * The bare consumer of bench/subscriptions.ts, run as its own process so that its peak RSS is its own:
 *   node --import tsx bench/_subscriptions-bare.ts '<target JSON>'
 * The same clients Integrator uses and the same window (amqplib with a prefetch of 2 × batch ×
 * concurrency; @nats-io/jetstream with a durable pull consumer, max_ack_pending and `consume`
 * max_messages the same), `concurrency` loops each taking up to `batch` messages
 * (waiting at most 100 ms after the first for more), `JSON.parse` per message, one multi-row INSERT per
 * batch through pg, then every message of the batch acked (RabbitMQ `ack`, JetStream `ackAck`, all at
 * once) after the INSERT committed. Prints one JSON line: seconds from the first consume to the last ack.
 */
import type { JsMsg } from '@nats-io/jetstream';
import pg from 'pg';

export interface BareTarget {
  broker: 'rabbitmq' | 'nats';
  pg: string;
  table: string;
  messages: number;
  batch: number;
  concurrency: number;
  /** The queue, or the stream (its durable consumer is `bare`). */
  source: string;
}

const LINGER_MS = 100;

interface Item {
  body: Uint8Array;
  ack(): Promise<void> | void;
}

/** Pushed messages, handed out in batches: the first one, then up to LINGER_MS for more. */
class Buffer_ {
  items: Item[] = [];
  finished = false;
  private wake: (() => void)[] = [];
  finish() {
    this.finished = true;
    for (const w of this.wake.splice(0)) w();
  }
  push(i: Item) {
    this.items.push(i);
    for (const w of this.wake.splice(0)) w();
  }
  private wait(ms?: number) {
    return new Promise<void>((r) => {
      this.wake.push(r);
      if (ms !== undefined) setTimeout(r, ms);
    });
  }
  /** Empty only once finished: another loop may have taken what this one waited for, then it waits again. */
  async take(max: number): Promise<Item[]> {
    for (;;) {
      while (this.items.length === 0) {
        if (this.finished) return [];
        await this.wait();
      }
      const until = Date.now() + LINGER_MS;
      while (this.items.length < max && Date.now() < until) await this.wait(until - Date.now());
      const got = this.items.splice(0, max);
      if (got.length > 0) return got;
    }
  }
}

async function main(t: BareTarget): Promise<void> {
  const pool = new pg.Pool({ connectionString: t.pg, max: t.concurrency });
  const buffer = new Buffer_();
  let close: () => Promise<void>;
  let done = 0;
  const t0 = performance.now();
  if (t.broker === 'rabbitmq') {
    const amqp = (await import('amqplib')).default;
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const broken = (why: string) => () => {
      if (done < t.messages) {
        process.stderr.write(`bare: the RabbitMQ ${why} at ${done} messages\n`);
        process.exit(1);
      }
    };
    conn.on('error', broken('connection failed'));
    conn.on('close', broken('connection closed'));
    const ch = await conn.createChannel();
    await ch.prefetch(2 * t.batch * t.concurrency);
    await ch.consume(
      t.source,
      (msg) => {
        if (msg) buffer.push({ body: msg.content, ack: () => ch.ack(msg) });
      },
      { noAck: false },
    );
    close = async () => {
      // Closing the channel first: its close-ok comes after the broker took every ack sent before.
      await ch.close();
      await conn.close();
    };
  } else {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream, jetstreamManager, AckPolicy } = await import('@nats-io/jetstream');
    // As Integrator's connection: no async stack trace captured per request (each ackAck is one).
    const nc = await connect({ servers: '127.0.0.1:4222', noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(t.source, {
      durable_name: 'bare',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 2 * t.batch * t.concurrency,
    });
    const consumer = await jetstream(nc).consumers.get(t.source, 'bare');
    const iter = await consumer.consume({ max_messages: 2 * t.batch * t.concurrency });
    void (async () => {
      for await (const m of iter as AsyncIterable<JsMsg>)
        buffer.push({
          body: m.data,
          ack: async () => {
            if (!(await m.ackAck())) throw new Error(`ack of ${m.seq} not confirmed`);
          },
        });
    })();
    close = async () => {
      await iter.close();
      await nc.close();
    };
  }
  const decoder = new TextDecoder();
  const loop = async () => {
    while (done < t.messages) {
      const batch = await buffer.take(t.batch);
      if (batch.length === 0) break;
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (const item of batch) {
        const r = JSON.parse(decoder.decode(item.body)) as { id: number; name: string; amount: number };
        const n = params.length;
        tuples.push(`($${n + 1},$${n + 2},$${n + 3})`);
        params.push(r.id, r.name, String(r.amount));
      }
      await pool.query(`insert into ${t.table} (id, name, amount) values ${tuples.join(',')}`, params);
      await Promise.all(batch.map((i) => i.ack()));
      done += batch.length;
    }
    buffer.finish();
  };
  await Promise.all(Array.from({ length: t.concurrency }, loop));
  const seconds = (performance.now() - t0) / 1000;
  if (done !== t.messages) throw new Error(`bare: ${done} messages consumed, expected ${t.messages}`);
  await close();
  await pool.end();
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ seconds, done, rssMb })}\n`);
}

const arg = process.argv[2];
if (arg) await main(JSON.parse(arg) as BareTarget);
