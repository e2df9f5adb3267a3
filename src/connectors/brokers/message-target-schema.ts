/** What a transfer step's `to.message` says: how rows become messages and where each one goes. */
import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../../core/string-enum.js';

const Template = (description: string) => Type.String({ minLength: 1, description });

export const MessageTargetSchema = Type.Object(
  {
    send: StringEnum(['record', 'batch'], {
      default: 'record',
      description: 'One message per record (body: the record) or per batch (body: the records)',
    }),
    batchSize: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 100,
      description: 'Records per batch message',
    }),
    exchange: Type.Optional(
      Type.String({ description: 'RabbitMQ: the exchange (template); default the default exchange ""' }),
    ),
    routingKey: Type.Optional(
      Template('RabbitMQ: the routing key (template), a queue name on the default exchange'),
    ),
    mandatory: Type.Boolean({
      default: true,
      description: 'RabbitMQ: a message no queue takes is returned, which fails the step',
    }),
    persistent: Type.Boolean({
      default: true,
      description: 'RabbitMQ: delivery mode 2 (kept on disk by durable queues)',
    }),
    subject: Type.Optional(Template('NATS JetStream: the subject (template); a stream must capture it')),
    stream: Type.Optional(Template('Redis: the stream key (template)')),
    topic: Type.Optional(Template('MQTT: the topic (template); no wildcards + or #')),
    qos: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2,
        description: 'MQTT: 1 (PUBACK, the default) or 2 (PUBREC/PUBREL/PUBCOMP, exactly once to the broker)',
      }),
    ),
    retain: Type.Optional(
      Type.Boolean({
        description: 'MQTT: the broker keeps the last message of each topic for new subscribers',
      }),
    ),
    maxLen: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Redis: XADD MAXLEN ~ this (the stream is trimmed to about that many entries)',
      }),
    ),
    key: Type.Optional(
      Template(
        'The message key (template): a header "key" on RabbitMQ and NATS, a field "key" on Redis, a user property "key" on MQTT',
      ),
    ),
    id: Type.Optional(Template('The message id (template), e.g. {order_id} or {run_id}-{record}')),
    headers: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String(), { description: 'Headers (templates)' }),
    ),
    inFlight: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 1000,
      description: 'Messages published and not yet confirmed at most',
    }),
  },
  { additionalProperties: false },
);
export type MessageTarget = Static<typeof MessageTargetSchema>;
