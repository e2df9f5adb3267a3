import { type Static, Type } from '@sinclair/typebox';

export const WEBHOOK_EVENTS = ['run.succeeded', 'run.failed', 'run.cancelled'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** An outbound webhook: where run notifications go, which ones, and the key that signs them. */
export const WebhookSpec = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Receives a POST with a JSON body per event' }),
    secret: Type.String({
      minLength: 16,
      writeOnly: true,
      description: 'Key of the HMAC-SHA256 signature (at least 16 characters); stored encrypted, never shown',
    }),
    events: Type.Optional(
      Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), {
        minItems: 1,
        uniqueItems: true,
        default: ['run.succeeded', 'run.failed'],
      }),
    ),
    flows: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Only runs of these flows (default: every flow)',
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Extra request headers' }),
    ),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    retry: Type.Optional(
      Type.Object(
        {
          attempts: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'Total attempts' }),
          delay: Type.Optional(
            Type.Number({
              minimum: 0,
              default: 2,
              description: 'Seconds before the first retry; doubles each time',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    timeout: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 300, default: 10, description: 'Seconds per attempt' }),
    ),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, title: 'Webhook' },
);
export type WebhookSpec = Static<typeof WebhookSpec>;
