/**
 * RabbitMQ (AMQP 0-9-1) connections: a transfer step publishes rows to an exchange on a confirm channel
 * and succeeds only when the broker acked every message. AMQP cannot list queues or exchanges, so
 * discover checks the names the connection lists (passive declares) and reports what exists.
 */
import { type Static, Type } from '@sinclair/typebox';
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
import { type OutMessage, openMessageWriter, type Publisher, refuseOptions } from './message-writer.js';
import { openRabbitConsumer } from './rabbitmq-consumer.js';

const Names = (what: string) =>
  Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), { description: `${what} that discover checks exist` }),
  );

export const RabbitConfigSchema = brokerConfigSchema(['amqp', 'amqps'], 'amqp://broker:5672/vhost', {
  heartbeat: Type.Integer({
    default: 30,
    minimum: 0,
    maximum: 3600,
    description: 'Heartbeat in seconds (0: none)',
  }),
  queues: Names('Queues'),
  exchanges: Names('Exchanges'),
});
export type RabbitConfig = Static<typeof RabbitConfigSchema>;

type Amqp = typeof import('amqplib');
type ChannelModel = import('amqplib').ChannelModel;

const BROKER = 'RabbitMQ';

class RabbitConnector implements Connector {
  readonly type = 'rabbitmq';
  constructor(
    private readonly config: RabbitConfig,
    private readonly amqp: Amqp,
    private readonly formats: FormatRegistry,
  ) {}

  /** A connection of its own, its errors handled here so a broker that goes away cannot end the process. */
  private async open(name?: string): Promise<ChannelModel> {
    const url = brokerUrl(this.config, 'rabbitmq');
    if (this.config.username !== undefined) url.username = encodeURIComponent(this.config.username);
    if (this.config.password !== undefined) url.password = encodeURIComponent(this.config.password);
    url.searchParams.set('heartbeat', String(this.config.heartbeat));
    try {
      const conn = await this.amqp.connect(url.toString(), {
        timeout: this.config.timeout * 1000,
        // Shown by the broker's tools (rabbitmqctl list_connections client_properties).
        ...(name !== undefined ? { clientProperties: { connection_name: name } } : {}),
        ...(url.protocol === 'amqps:' ? tlsOptions(this.config) : {}),
      });
      conn.on('error', () => {
        // Reported to the writer through 'close'; without a listener an error would be thrown.
      });
      return conn;
    } catch (err) {
      throw connectionFailed(BROKER, err);
    }
  }

  async check(): Promise<void> {
    const conn = await this.open();
    await conn.close().catch(() => undefined);
  }

  /** The configured queues and exchanges that exist (a missing one closes the channel, so one each). */
  async discover(): Promise<TableInfo[]> {
    const conn = await this.open();
    const found: TableInfo[] = [];
    try {
      const probe = async (kind: 'queue' | 'exchange', name: string) => {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        try {
          if (kind === 'queue') await ch.checkQueue(name);
          else await ch.checkExchange(name);
          found.push({ schema: kind, name, columns: [] });
          await ch.close().catch(() => undefined);
        } catch {
          // 404 NOT_FOUND: the broker closed the channel.
        }
      };
      for (const q of this.config.queues ?? []) await probe('queue', q);
      for (const e of this.config.exchanges ?? []) await probe('exchange', e);
    } finally {
      await conn.close().catch(() => undefined);
    }
    return found;
  }

  async read(): Promise<SourceResult> {
    throw new AppError(
      'BAD_REQUEST',
      'A rabbitmq connection is a destination of transfers (to.message) and the source of subscriptions',
    );
  }

  consume(spec: ConsumeSpec): Promise<MessageConsumer> {
    return openRabbitConsumer(() => this.open(`integrator subscription ${spec.consumerName}`), spec);
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    const message = spec.message;
    if (message === undefined)
      throw new AppError(
        'BAD_REQUEST',
        'A rabbitmq connection writes { message: { routingKey, … } }, not tables or files',
      );
    refuseOptions(message, BROKER, ['subject', 'stream', 'maxLen', 'topic', 'qos', 'retain']);
    if (message.routingKey === undefined)
      throw new AppError(
        'VALIDATION_FAILED',
        'to.message.routingKey is required for a rabbitmq destination',
        {
          details: [{ path: '/to/message/routingKey', message: 'required' }],
        },
      );
    const publisher = await this.publisher(
      message.exchange ?? '',
      message.routingKey,
      message.mandatory,
      message.persistent,
    );
    return openMessageWriter(this.formats, { ...spec, message }, publisher, signal);
  }

  private async publisher(
    exchange: string,
    routingKey: string,
    mandatory: boolean,
    persistent: boolean,
  ): Promise<Publisher> {
    const conn = await this.open();
    let ended: Error | undefined;
    const pending = new Map<
      number,
      { m: OutMessage; rk: string; ex: string; reject: (e: Error) => void; returned?: string }
    >();
    let seq = 0;
    const endAll = (err: Error) => {
      ended ??= err;
      for (const p of pending.values()) p.reject(ended);
      pending.clear();
    };
    conn.on('error', (err: Error) => endAll(new Error(`the connection closed (${err.message})`)));
    conn.on('close', (err?: Error) =>
      endAll(new Error(`the connection closed${err ? ` (${err.message})` : ''}`)),
    );
    let ch: import('amqplib').ConfirmChannel;
    try {
      ch = await conn.createConfirmChannel();
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw connectionFailed(BROKER, err);
    }
    // A channel closes before its connection says why; the connection's reason is the one to report.
    ch.on('error', (err: Error) =>
      setImmediate(() => endAll(new Error(`the channel closed (${err.message})`))),
    );
    ch.on('close', () => setImmediate(() => endAll(new Error('the channel closed'))));
    ch.on('return', (msg: import('amqplib').Message) => {
      // basic.return comes before the ack of the same message: mark the oldest one that matches.
      for (const p of pending.values()) {
        if (
          p.returned === undefined &&
          p.rk === msg.fields.routingKey &&
          p.ex === msg.fields.exchange &&
          p.m.body.equals(msg.content)
        ) {
          p.returned = `returned as unroutable: no queue takes routing key '${p.rk}' on exchange '${p.ex || '(default)'}'`;
          return;
        }
      }
    });
    return {
      broker: BROKER,
      publish: (m) =>
        new Promise<void>((resolve, reject) => {
          if (ended) return reject(lost(ended));
          const ex = m.expand(exchange, 'exchange');
          const rk = m.expand(routingKey, 'routingKey');
          const id = ++seq;
          const entry = { m, rk, ex, reject: (e: Error) => reject(lost(e)) };
          pending.set(id, entry);
          const headers: Record<string, string> = { ...m.headers };
          if (m.key !== undefined) headers['key'] = m.key;
          try {
            ch.publish(
              ex,
              rk,
              m.body,
              {
                mandatory,
                persistent,
                contentType: m.contentType,
                headers,
                ...(m.id !== undefined ? { messageId: m.id } : {}),
              },
              (err: unknown) => {
                const p = pending.get(id);
                if (!p) return;
                pending.delete(id);
                if (err instanceof Error && err.message === 'message nacked')
                  reject(new AppError('BROKER_REFUSED', 'the broker nacked it'));
                else if (err)
                  // A closed channel settles its callbacks before the connection says why it closed.
                  setImmediate(() => reject(lost(ended ?? new Error('the channel closed'))));
                else if (p.returned) reject(new AppError('BROKER_REFUSED', p.returned));
                else resolve();
              },
            );
          } catch (err) {
            pending.delete(id);
            reject(lost(ended ?? err));
          }
        }),
      close: async () => {
        await ch.close().catch(() => undefined);
        await conn.close().catch(() => undefined);
      },
    };
  }

  execute(): Promise<{ rowsAffected: number }> {
    return noSql('rabbitmq');
  }

  async close(): Promise<void> {}
}

export const rabbitmqConnectorType = brokerConnectorType({
  type: 'rabbitmq',
  title: 'RabbitMQ (AMQP 0-9-1)',
  configSchema: RabbitConfigSchema,
  consumes: { required: ['queue'], optional: [] },
  async open(parsed, ctx) {
    return new RabbitConnector(parsed, await import('amqplib'), ctx.formats);
  },
});
