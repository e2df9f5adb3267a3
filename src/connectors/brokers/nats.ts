/**
 * NATS JetStream connections: a transfer step publishes rows to subjects a stream captures, and succeeds
 * only when JetStream acked every message (a message id goes in Nats-Msg-Id, so the stream drops a
 * re-published one within its duplicate window). discover lists the streams and their subjects.
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
import { openMessageWriter, refuseOptions } from './message-writer.js';
import { openNatsConsumer } from './nats-consumer.js';

export const NatsConfigSchema = brokerConfigSchema(['nats', 'tls'], 'nats://broker:4222', {
  pingInterval: Type.Integer({
    default: 30,
    minimum: 1,
    maximum: 3600,
    description: 'Seconds between pings to the server',
  }),
});
export type NatsConfig = Static<typeof NatsConfigSchema>;

type Transport = typeof import('@nats-io/transport-node');
type JetStreamLib = typeof import('@nats-io/jetstream');
type NatsConnection = import('@nats-io/transport-node').NatsConnection;

const BROKER = 'NATS JetStream';

class NatsConnector implements Connector {
  readonly type = 'nats';
  constructor(
    private readonly config: NatsConfig,
    private readonly nats: Transport,
    private readonly js: JetStreamLib,
    private readonly formats: FormatRegistry,
  ) {}

  /** A connection of its own that does not reconnect: a lost connection fails what was waiting. */
  private async open(name?: string): Promise<NatsConnection> {
    const url = brokerUrl(this.config, 'nats');
    const user = this.config.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const pass = this.config.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    try {
      const nc = await this.nats.connect({
        servers: `${url.hostname}:${url.port || '4222'}`,
        ...(user !== undefined ? { user } : {}),
        ...(pass !== undefined ? { pass } : {}),
        ...(url.protocol === 'tls:' ? { tls: tlsOptions(this.config) } : {}),
        timeout: this.config.timeout * 1000,
        ...(name !== undefined ? { name: `integrator subscription ${name}` } : {}),
        pingInterval: this.config.pingInterval * 1000,
        reconnect: false,
        // An async stack trace per request costs more than the publish itself behind a deep flow; the
        // errors keep their message and cause.
        noAsyncTraces: true,
      });
      // closed() settles once; a failure that ends the connection is reported through pending publishes.
      nc.closed().catch(() => undefined);
      return nc;
    } catch (err) {
      throw connectionFailed(BROKER, err);
    }
  }

  /** Connects and asks the JetStream API for the account's info, so a server without JetStream fails. */
  async check(): Promise<void> {
    const nc = await this.open();
    try {
      const jsm = await this.js.jetstreamManager(nc, { timeout: this.config.timeout * 1000 });
      await jsm.getAccountInfo();
    } catch (err) {
      throw connectionFailed(BROKER, err);
    } finally {
      await nc.close().catch(() => undefined);
    }
  }

  async discover(): Promise<TableInfo[]> {
    const nc = await this.open();
    const found: TableInfo[] = [];
    try {
      const jsm = await this.js.jetstreamManager(nc, { timeout: this.config.timeout * 1000 });
      for await (const si of jsm.streams.list()) {
        found.push({
          schema: 'stream',
          name: si.config.name,
          columns: (si.config.subjects ?? []).map((s) => ({
            name: s,
            type: 'text' as const,
            nullable: true,
          })),
        });
      }
    } catch (err) {
      throw connectionFailed(BROKER, err);
    } finally {
      await nc.close().catch(() => undefined);
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  async read(): Promise<SourceResult> {
    throw new AppError(
      'BAD_REQUEST',
      'A nats connection is a destination of transfers (to.message) and the source of subscriptions',
    );
  }

  consume(spec: ConsumeSpec): Promise<MessageConsumer> {
    return openNatsConsumer(() => this.open(spec.consumerName), this.js, spec, this.config.timeout * 1000);
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    const message = spec.message;
    if (message === undefined)
      throw new AppError(
        'BAD_REQUEST',
        'A nats connection writes { message: { subject, … } }, not tables or files',
      );
    refuseOptions(message, BROKER, ['exchange', 'routingKey', 'stream', 'maxLen', 'topic', 'qos', 'retain']);
    const subject = message.subject;
    if (subject === undefined)
      throw new AppError('VALIDATION_FAILED', 'to.message.subject is required for a nats destination', {
        details: [{ path: '/to/message/subject', message: 'required' }],
      });
    const nc = await this.open();
    const js = this.js.jetstream(nc, { timeout: this.config.timeout * 1000 });
    const { headers: makeHeaders } = this.nats;
    return openMessageWriter(
      this.formats,
      { ...spec, message },
      {
        broker: BROKER,
        async publish(m) {
          const subj = m.expand(subject, 'subject');
          const h = makeHeaders();
          h.set('Content-Type', m.contentType);
          if (m.key !== undefined) h.set('key', m.key);
          for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
          try {
            await js.publish(subj, m.body, { headers: h, ...(m.id !== undefined ? { msgID: m.id } : {}) });
          } catch (err) {
            const reason = err instanceof Error ? err.message : String(err);
            if (nc.isClosed()) throw lost(new Error(`the connection was lost (${reason})`));
            throw new AppError('BROKER_REFUSED', `publish to '${subj}' was refused: ${reason}`);
          }
        },
        async close() {
          await nc.close().catch(() => undefined);
        },
      },
      signal,
    );
  }

  execute(): Promise<{ rowsAffected: number }> {
    return noSql('nats');
  }

  async close(): Promise<void> {}
}

export const natsConnectorType = brokerConnectorType({
  type: 'nats',
  title: 'NATS JetStream',
  configSchema: NatsConfigSchema,
  consumes: { required: ['stream'], optional: ['consumer', 'subject'] },
  async open(parsed, ctx) {
    const [nats, js] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
    return new NatsConnector(parsed, nats, js, ctx.formats);
  },
});
