/**
 * MQTT 5 connections (e.g. Mosquitto): a transfer step publishes rows to topics at QoS 1 or 2 and
 * succeeds only when the broker acknowledged every message (PUBACK, or PUBCOMP at QoS 2). MQTT has no
 * way to list topics (they exist only while messages flow), so discover returns the topics the
 * connection lists and nothing else.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import type { Connector, DestinationSpec, SourceResult, TableInfo, Writer } from '../connector.js';
import { brokerConfigSchema, brokerConnectorType, noSql } from './broker-config.js';
import { openMessageWriter, refuseOptions } from './message-writer.js';
import { BROKER, type MqttLib, openMqtt, topicProblem } from './mqtt-client.js';
import { MQTT_RESERVED, mqttPublisher } from './mqtt-publisher.js';

export const MqttConfigSchema = brokerConfigSchema(['mqtt', 'mqtts', 'ws', 'wss'], 'mqtt://broker:1883', {
  clientId: Type.String({
    default: 'integrator',
    minLength: 1,
    maxLength: 64,
    pattern: '^[0-9A-Za-z_.-]+$',
    description:
      'Client identifier prefix; each connection adds a random suffix, so steps never take over each other\u2019s session',
  }),
  keepalive: Type.Integer({
    default: 30,
    minimum: 0,
    maximum: 65535,
    description: 'Keep alive in seconds (0: none)',
  }),
  topics: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      description: 'Topics discover lists (MQTT cannot list the topics of a broker)',
    }),
  ),
});
export type MqttConfig = Static<typeof MqttConfigSchema>;

class MqttConnector implements Connector {
  readonly type = 'mqtt';
  constructor(
    private readonly config: MqttConfig,
    private readonly mqtt: MqttLib,
    private readonly formats: FormatRegistry,
  ) {}

  /** Connects and waits for the CONNACK: a refusal (bad credentials, not authorized) fails with its reason. */
  async check(): Promise<void> {
    const open = await openMqtt(this.mqtt, this.config);
    await open.close();
  }

  /** The topics the connection lists: a broker keeps no list of topics to ask for. */
  async discover(): Promise<TableInfo[]> {
    return (this.config.topics ?? []).map((name) => ({ schema: 'topic', name, columns: [] }));
  }

  async read(): Promise<SourceResult> {
    throw new AppError('BAD_REQUEST', 'A mqtt connection is a destination of transfers (to.message)');
  }

  async writer(spec: DestinationSpec, signal?: AbortSignal): Promise<Writer> {
    const message = spec.message;
    if (message === undefined)
      throw new AppError(
        'BAD_REQUEST',
        'A mqtt connection writes { message: { topic, … } }, not tables or files',
      );
    refuseOptions(message, BROKER, ['exchange', 'routingKey', 'subject', 'stream', 'maxLen']);
    const topic = message.topic;
    if (topic === undefined)
      throw new AppError('VALIDATION_FAILED', 'to.message.topic is required for a mqtt destination', {
        details: [{ path: '/to/message/topic', message: 'required' }],
      });
    // A wildcard written in the template itself is refused before anything is published.
    const problem = topicProblem(topic.replace(/\{[^}]*\}/g, 'x'));
    if (problem)
      throw new AppError('VALIDATION_FAILED', `to.message.topic: not a topic to publish to: ${problem}`, {
        details: [{ path: '/to/message/topic', message: problem }],
      });
    for (const name of Object.keys(message.headers ?? {})) {
      if (MQTT_RESERVED.has(name.toLowerCase()))
        throw new AppError(
          'VALIDATION_FAILED',
          `to.message.headers.${name}: '${name}' is the user property of to.message.${name === 'key' ? 'key' : 'id'}`,
          { details: [{ path: `/to/message/headers/${name}`, message: 'reserved user property' }] },
        );
    }
    const qos = message.qos === 2 ? 2 : 1;
    const open = await openMqtt(this.mqtt, this.config);
    const publisher = mqttPublisher(open, topic, qos, message.retain ?? false, message.inFlight);
    return openMessageWriter(this.formats, { ...spec, message }, publisher, signal);
  }

  execute(): Promise<{ rowsAffected: number }> {
    return noSql('mqtt');
  }

  async close(): Promise<void> {}
}

export const mqttConnectorType = brokerConnectorType({
  type: 'mqtt',
  title: 'MQTT 5',
  configSchema: MqttConfigSchema,
  async open(parsed, ctx) {
    const mqtt = await import('mqtt');
    return new MqttConnector(parsed, mqtt, ctx.formats);
  },
});
