import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import { WebhookSpec } from './webhook-schema.js';

/** Webhooks: the secret is sealed at rest and masked when read; editors manage them. */
export const webhookKind: DefinitionKind<WebhookSpec> = {
  kind: 'webhook',
  plural: 'webhooks',
  title: 'Webhook',
  schema: WebhookSpec,
  order: 50,
  readRole: 'editor',
  validate(input) {
    return validate(WebhookSpec, input, 'webhook');
  },
  references: (spec) => (spec.flows ?? []).map((name, i) => ({ kind: 'flow', name, path: `/flows/${i}` })),
  secretFields() {
    return ['secret'];
  },
};
