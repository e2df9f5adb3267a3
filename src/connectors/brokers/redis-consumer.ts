/**
 * Consuming a Redis stream through a consumer group (created at the start of the stream when missing):
 * XREADGROUP takes new entries, XACK settles one when its delivery's ack is called. An entry given back
 * stays pending with this consumer and is claimed again (XCLAIM, which counts the delivery) once its
 * delay passed; entries left pending by a consumer that went away are claimed after `ackWait` idle
 * seconds (XAUTOCLAIM): competing consumers, nothing lost.
 */
import type { Redis as RedisClient } from 'ioredis';
import { AppError } from '../../core/errors.js';
import { connectionFailed } from './broker-config.js';
import type { ConsumeSpec, Delivery, InMessage, MessageConsumer } from './message-consumer.js';

const BROKER = 'Redis';
/** Longest single block of XREADGROUP, so a stop is noticed soon. */
const BLOCK_MS = 1000;

type Entry = { id: string; fields: Map<string, Buffer> };

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** An entry of a reply: [id, [field, value, …]]; undefined for a deleted one (nil). */
function entryOf(raw: unknown): Entry | undefined {
  if (!Array.isArray(raw) || raw.length < 2 || !Array.isArray(raw[1])) return undefined;
  const list: unknown[] = raw[1];
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const v: unknown = list[i + 1];
    fields.set(text(list[i]), Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
  }
  return { id: text(raw[0]), fields };
}

function entriesOf(raw: unknown): Entry[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((e: unknown) => {
    const entry = entryOf(e);
    return entry ? [entry] : [];
  });
}

/** Entries of an XREADGROUP reply: [[stream, [entry, …]]] or nil. */
function readReply(raw: unknown): Entry[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((s: unknown) => (Array.isArray(s) ? entriesOf(s[1]) : []));
}

export async function openRedisConsumer(
  open: () => Promise<RedisClient>,
  spec: ConsumeSpec,
): Promise<MessageConsumer> {
  if (spec.stream === undefined || spec.group === undefined)
    throw new AppError('VALIDATION_FAILED', 'A redis-streams subscription needs a stream', {
      details: [{ path: '/stream', message: 'required for redis-streams' }],
    });
  const stream: string = spec.stream;
  const group: string = spec.group;
  const consumer = spec.consumerName;
  // Blocking reads on one connection; acks and claims on the other, so they never wait behind a block.
  const reader = await open();
  let commands: RedisClient;
  try {
    commands = await open();
  } catch (err) {
    reader.disconnect();
    throw err;
  }
  let closed = false;
  const fail = (err: unknown): never => {
    if (err instanceof Error && err.name === 'ReplyError')
      throw new AppError('BROKER_REFUSED', `${BROKER}: ${err.message}`);
    throw connectionFailed(BROKER, err);
  };
  try {
    await commands.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM').catch((err: unknown) => {
      if (!(err instanceof Error && /BUSYGROUP/.test(err.message))) throw err;
    });
  } catch (err) {
    reader.disconnect();
    commands.disconnect();
    fail(err);
  }
  /** Entries given back, by id, with the time they may be delivered again. */
  const later = new Map<string, number>();
  let claimCursor = '0-0';
  let lastClaim = 0;

  const toDelivery = (e: Entry, deliveries: number): Delivery => {
    const f = e.fields;
    const headers: Record<string, string> = {};
    for (const [k, v] of f)
      if (!['body', 'content-type', 'key', 'id'].includes(k)) headers[k] = v.toString('utf8');
    const body =
      f.get('body') ??
      Buffer.from(JSON.stringify(Object.fromEntries([...f].map(([k, v]) => [k, v.toString('utf8')]))));
    const ms = Number(e.id.split('-')[0]);
    const message: InMessage = {
      id: f.get('id')?.toString('utf8') ?? e.id,
      key: f.get('key')?.toString('utf8') ?? null,
      headers,
      source: stream,
      timestamp: Number.isFinite(ms) ? new Date(ms) : null,
      redeliveries: Math.max(0, deliveries - 1),
      body,
      contentType: f.get('content-type')?.toString('utf8') ?? (f.has('body') ? null : 'application/json'),
    };
    return {
      message,
      async ack() {
        later.delete(e.id);
        try {
          await commands.call('XACK', stream, group, e.id);
        } catch (err) {
          fail(err);
        }
      },
      async retry(delayMs) {
        later.set(e.id, Date.now() + delayMs);
      },
    };
  };

  /** Delivery counts of pending entries (XPENDING), for the ones claimed again. */
  async function counts(ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (ids.length === 0) return out;
    const sorted = [...ids].sort((a, b) => (a < b ? -1 : 1));
    const raw: unknown = await commands.call(
      'XPENDING',
      stream,
      group,
      sorted[0] ?? '-',
      sorted.at(-1) ?? '+',
      ids.length * 2 + 10,
      consumer,
    );
    if (Array.isArray(raw)) for (const p of raw) if (Array.isArray(p)) out.set(text(p[0]), Number(p[3]));
    return out;
  }

  /** Entries given back whose delay passed, and entries idle too long with consumers that went away. */
  async function reclaim(max: number): Promise<Delivery[]> {
    const now = Date.now();
    const due = [...later]
      .filter(([, at]) => at <= now)
      .map(([id]) => id)
      .slice(0, max);
    const out: Entry[] = [];
    if (due.length > 0) {
      for (const id of due) later.delete(id);
      out.push(...entriesOf(await commands.callBuffer('XCLAIM', stream, group, consumer, 0, ...due)));
      // An entry deleted from the stream meanwhile comes back as nil: nothing to deliver, settle it.
      const gone = due.filter((id) => !out.some((e) => e.id === id));
      if (gone.length > 0) await commands.call('XACK', stream, group, ...gone);
    }
    if (out.length < max && now - lastClaim >= Math.min(spec.ackWait * 1000, 5000) / 2) {
      lastClaim = now;
      const raw: unknown = await commands.callBuffer(
        'XAUTOCLAIM',
        stream,
        group,
        consumer,
        spec.ackWait * 1000,
        claimCursor,
        'COUNT',
        max - out.length,
      );
      if (Array.isArray(raw)) {
        claimCursor = text(raw[0]);
        const claimed = entriesOf(raw[1]).filter((e) => !later.has(e.id));
        out.push(...claimed);
      }
    }
    if (out.length === 0) return [];
    const n = await counts(out.map((e) => e.id));
    return out.map((e) => toDelivery(e, n.get(e.id) ?? 2));
  }

  async function read(count: number, blockMs: number): Promise<Delivery[]> {
    const raw: unknown = await reader.callBuffer(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      stream,
      '>',
    );
    return readReply(raw).map((e) => toDelivery(e, 1));
  }

  return {
    async receive(max, lingerMs, signal) {
      if (closed) throw new AppError('CONNECTION_FAILED', `${BROKER}: the consumer was closed`);
      try {
        const got: Delivery[] = [];
        while (got.length === 0 && !signal.aborted) {
          got.push(...(await reclaim(max)));
          if (got.length === 0) got.push(...(await read(max, BLOCK_MS)));
        }
        const until = Date.now() + lingerMs;
        while (got.length < max && !signal.aborted) {
          const left = until - Date.now();
          if (left <= 0) break;
          // BLOCK 0 would wait for ever: at least a millisecond.
          got.push(...(await read(max - got.length, Math.max(1, Math.min(left, BLOCK_MS)))));
        }
        return got;
      } catch (err) {
        if (err instanceof AppError) throw err;
        return fail(err);
      }
    },
    async close() {
      closed = true;
      // Entries not acked stay pending in the group, claimed by a consumer after ackWait.
      reader.disconnect();
      commands.disconnect();
    },
  };
}
