/**
 * Redis Streams connections: a transfer step appends rows to a stream with XADD and succeeds only when
 * Redis answered every XADD with the entry's id. discover lists the stream keys (SCAN TYPE stream).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Redis as RedisClient } from 'ioredis';
import { AppError } from '../../core/errors.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import type { Connector, DestinationSpec, SourceResult, TableInfo, Writer } from '../connector.js';
import {
  brokerConfigSchema,
  brokerConnectorType,
  brokerUrl,
  connectionFailed,
  lost,
  noSql,
  tlsOptions,
} from './broker-config.js';
import type { ConsumeSpec, MessageConsumer } from './message-consumer.js';
import { openMessageWriter, refuseOptions } from './message-writer.js';
import { openRedisConsumer } from './redis-consumer.js';

export const RedisStreamsConfigSchema = brokerConfigSchema(['redis', 'rediss'], 'redis://cache:6379/0', {
  db: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 15, description: 'Database number (overrides one in the URL)' }),
  ),
});
export type RedisStreamsConfig = Static<typeof RedisStreamsConfigSchema>;

const BROKER = 'Redis';
/** Field names of an entry; headers may not take them. */
const RESERVED = new Set(['body', 'content-type', 'key', 'id']);

class RedisStreamsConnector implements Connector {
  readonly type = 'redis-streams';
  constructor(
    private readonly config: RedisStreamsConfig,
    private readonly Redis: typeof RedisClient,
    private readonly formats: FormatRegistry,
  ) {}

  /**
   * A client of its own that never reconnects or queues offline: a lost connection fails what was
   * waiting, and its 'error' events are handled here.
   */
  private async open(name?: string): Promise<RedisClient> {
    const url = brokerUrl(this.config, 'redis-streams');
    const client = new this.Redis(url.toString(), {
      ...(this.config.username !== undefined ? { username: this.config.username } : {}),
      ...(this.config.password !== undefined ? { password: this.config.password } : {}),
      ...(this.config.db !== undefined ? { db: this.config.db } : {}),
      ...(url.protocol === 'rediss:' ? { tls: tlsOptions(this.config) } : {}),
      connectTimeout: this.config.timeout * 1000,
      commandTimeout: this.config.timeout * 1000,
      lazyConnect: true,
      // Shown by CLIENT LIST.
      ...(name !== undefined
        ? { connectionName: `integrator-subscription-${name.replace(/[^A-Za-z0-9_.:-]/g, '_')}` }
        : {}),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      // The XADDs a batch sends in one task go out as one pipeline (one socket write), not one each. A
      // subscription's clients (named) do not: a blocking XREADGROUP would hold the pipeline up.
      enableAutoPipelining: name === undefined,
    });
    let lastError: Error | undefined;
    client.on('error', (err: Error) => {
      lastError = err;
    });
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw connectionFailed(BROKER, lastError ?? err);
    }
    return client;
  }

  async check(): Promise<void> {
    const client = await this.open();
    try {
      await client.ping();
    } catch (err) {
      throw connectionFailed(BROKER, err);
    } finally {
      client.disconnect();
    }
  }

  async discover(): Promise<TableInfo[]> {
    const client = await this.open();
    const keys = new Set<string>();
    try {
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'COUNT', 1000, 'TYPE', 'stream');
        for (const k of found) keys.add(k);
        cursor = next;
      } while (cursor !== '0');
    } catch (err) {
      throw connectionFailed(BROKER, err);
    } finally {
      client.disconnect();
    }
    return [...keys].sort().map((name) => ({ schema: 'stream', name, columns: [] }));
  }

  async read(): Promise<SourceResult> {
    throw new AppError(
      'BAD_REQUEST',
      'A redis-streams connection is a destination of transfers (to.message) and the source of subscriptions',
    );
  }

  consume(spec: ConsumeSpec): Promise<MessageConsumer> {
    return openRedisConsumer(() => this.open(spec.consumerName), spec);
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    const message = spec.message;
    if (message === undefined)
      throw new AppError(
        'BAD_REQUEST',
        'A redis-streams connection writes { message: { stream, … } }, not tables or files',
      );
    refuseOptions(message, BROKER, ['subject', 'exchange', 'routingKey', 'topic', 'qos', 'retain']);
    const stream = message.stream;
    if (stream === undefined)
      throw new AppError(
        'VALIDATION_FAILED',
        'to.message.stream is required for a redis-streams destination',
        {
          details: [{ path: '/to/message/stream', message: 'required' }],
        },
      );
    for (const name of Object.keys(message.headers ?? {})) {
      if (RESERVED.has(name.toLowerCase()))
        throw new AppError(
          'VALIDATION_FAILED',
          `to.message.headers.${name}: '${name}' is a field of every entry`,
          {
            details: [{ path: `/to/message/headers/${name}`, message: 'reserved field name' }],
          },
        );
    }
    const client = await this.open();
    const trim = message.maxLen !== undefined ? ['MAXLEN', '~', String(message.maxLen)] : [];
    return openMessageWriter(
      this.formats,
      { ...spec, message },
      {
        broker: BROKER,
        async publish(m) {
          const key = m.expand(stream, 'stream');
          const fields: (string | Buffer)[] = ['body', m.body, 'content-type', m.contentType];
          if (m.key !== undefined) fields.push('key', m.key);
          if (m.id !== undefined) fields.push('id', m.id);
          for (const [k, v] of Object.entries(m.headers)) fields.push(k, v);
          try {
            await client.xadd(key, ...(trim as []), '*', ...(fields as [string]));
          } catch (err) {
            const reason = err instanceof Error ? err.message : String(err);
            // A reply is Redis refusing the entry; anything else is the connection failing under it.
            if (err instanceof Error && err.name === 'ReplyError')
              throw new AppError('BROKER_REFUSED', `XADD to '${key}' was refused: ${reason}`);
            throw lost(new Error(`the connection was lost (${reason})`));
          }
        },
        async close() {
          client.disconnect();
        },
      },
      signal,
    );
  }

  execute(): Promise<{ rowsAffected: number }> {
    return noSql('redis-streams');
  }

  async close(): Promise<void> {}
}

export const redisStreamsConnectorType = brokerConnectorType({
  type: 'redis-streams',
  title: 'Redis Streams',
  configSchema: RedisStreamsConfigSchema,
  consumes: { required: ['stream'], optional: ['group'] },
  async open(parsed, ctx) {
    const { Redis } = await import('ioredis');
    return new RedisStreamsConnector(parsed, Redis, ctx.formats);
  },
});
