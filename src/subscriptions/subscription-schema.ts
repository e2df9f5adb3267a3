/** The `subscription` definition: a broker queue or stream bound to a flow that reads `@message`. */
import { type Static, Type } from '@sinclair/typebox';
import { MessageTargetSchema } from '../connectors/brokers/message-target-schema.js';
import type { FormatRegistry } from '../formats/format-registry.js';

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });

export function subscriptionSchema(extensions: { formats: FormatRegistry }) {
  return Type.Object(
    {
      description: Type.Optional(Type.String({ maxLength: 2000 })),
      connection: Name('The broker connection consumed (rabbitmq, nats or redis-streams)'),
      queue: Type.Optional(Name('RabbitMQ: the queue (it must exist)')),
      stream: Type.Optional(Name('NATS JetStream and Redis Streams: the stream')),
      consumer: Type.Optional(
        Name('NATS JetStream: the durable consumer, created when missing (default: the subscription name)'),
      ),
      subject: Type.Optional(
        Name("NATS JetStream: the subjects the consumer takes when it is created (default: the stream's)"),
      ),
      group: Type.Optional(
        Name(
          'Redis Streams: the consumer group, created at the start of the stream when missing (default: the subscription name)',
        ),
      ),
      topic: Type.Optional(Name('MQTT: the topic filter (a shared subscription across processes)')),
      flow: Name('The flow run for each batch; its steps read the batch from the connection @message'),
      batchSize: Type.Integer({
        minimum: 1,
        maximum: 10000,
        default: 100,
        description: 'Messages per batch (one run of the flow)',
      }),
      linger: Type.Number({
        minimum: 0,
        maximum: 60,
        default: 0.1,
        description: 'Seconds a batch waits for more messages after its first one',
      }),
      concurrency: Type.Integer({
        minimum: 1,
        maximum: 64,
        default: 1,
        description: 'Batches in flight at once in each process (order is kept only with 1)',
      }),
      maxAttempts: Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 5,
        description: 'Attempts of a message before it goes to the dead-letter target',
      }),
      backoff: Type.Object(
        {
          delay: Type.Number({
            minimum: 0,
            maximum: 3600,
            default: 1,
            description: 'Seconds before the first redelivery',
          }),
          factor: Type.Number({ minimum: 1, maximum: 10, default: 2, description: 'Growth per attempt' }),
          max: Type.Number({ minimum: 0, maximum: 86400, default: 60, description: 'Longest wait, seconds' }),
        },
        { additionalProperties: false, default: {} },
      ),
      ackWait: Type.Number({
        minimum: 1,
        maximum: 86400,
        default: 60,
        description:
          'Seconds a message taken by a consumer that went away stays with it before another gets it (NATS ack_wait; Redis: idle time before pending entries are claimed)',
      }),
      format: Type.Optional(
        Type.Object(
          {
            type: extensions.formats.nameSchema({
              description: 'The body format (default: by content type, else json)',
            }),
            options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
      ),
      metadata: Type.Boolean({
        default: true,
        description:
          'Add the _message_* fields (id, key, headers, source, timestamp, redeliveries) to each record',
      }),
      dedupe: Type.Optional(
        Type.Object(
          {
            key: Type.String({
              minLength: 1,
              default: '{_message_id}',
              description: "Template of the message's dedupe key over its metadata and first record's fields",
            }),
          },
          {
            additionalProperties: false,
            description:
              'Exactly once into databases: each destination records the keys of the messages it wrote, in the same transaction',
          },
        ),
      ),
      deadLetter: Type.Optional(
        Type.Object(
          {
            connection: Name('Where a message goes after maxAttempts: a broker or a database connection'),
            table: Type.Optional(Name('A database table (created when missing)')),
            message: Type.Optional(MessageTargetSchema),
          },
          { additionalProperties: false },
        ),
      ),
      enabled: Type.Boolean({ default: true }),
    },
    { additionalProperties: false },
  );
}

export type SubscriptionSpec = Static<ReturnType<typeof subscriptionSchema>>;
