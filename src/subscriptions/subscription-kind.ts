import type { SubscriptionField } from '../connectors/connector.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import { AppError, type ErrorDetail } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { DefinitionKind, DefinitionRef } from '../definitions/definition-kind.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import { type SubscriptionSpec, subscriptionSchema } from './subscription-schema.js';

const FIELDS: readonly SubscriptionField[] = ['queue', 'stream', 'consumer', 'subject', 'group', 'topic'];

/** The type of a stored connection, or undefined when there is none of that name. */
export type ConnectionTypeOf = (name: string) => Promise<string | undefined>;

/**
 * Subscriptions are validated whole on save: schema, body format, a dead-letter target that says where
 * (a table or a message), and the fields of what is consumed as the connection's broker wants them
 * (ConnectorType.consumes: a queue for RabbitMQ, a stream for NATS and Redis).
 */
export function subscriptionKind(
  extensions: { formats: FormatRegistry; connectors: ConnectorRegistry },
  connectionType: ConnectionTypeOf,
): DefinitionKind<SubscriptionSpec> {
  const schema = subscriptionSchema(extensions);
  return {
    kind: 'subscription',
    plural: 'subscriptions',
    title: 'Subscription',
    schema,
    readRole: 'viewer',
    order: 35,
    async validate(input) {
      const spec = validate(schema, input, 'subscription');
      if (spec.format) extensions.formats.bind(spec.format);
      const problems: ErrorDetail[] = [];
      const dl = spec.deadLetter;
      if (dl && (dl.table === undefined) === (dl.message === undefined))
        problems.push({ path: '/deadLetter', message: 'give either table or message' });
      const type = await connectionType(spec.connection);
      if (type !== undefined) {
        const consumes = extensions.connectors.get(type).consumes;
        if (!consumes) {
          problems.push({
            path: '/connection',
            message: `a ${type} connection cannot be subscribed to (use a message broker connection)`,
          });
        } else {
          for (const f of consumes.required)
            if (spec[f] === undefined) problems.push({ path: `/${f}`, message: `required for ${type}` });
          for (const f of FIELDS) {
            if (spec[f] !== undefined && !consumes.required.includes(f) && !consumes.optional.includes(f))
              problems.push({ path: `/${f}`, message: `does not apply to ${type}` });
          }
        }
      }
      if (problems.length > 0)
        throw new AppError(
          'VALIDATION_FAILED',
          `subscription: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
          { details: problems },
        );
      return spec;
    },
    references(spec) {
      const refs: DefinitionRef[] = [
        { kind: 'connection', name: spec.connection, path: '/connection' },
        { kind: 'flow', name: spec.flow, path: '/flow' },
      ];
      if (spec.deadLetter)
        refs.push({ kind: 'connection', name: spec.deadLetter.connection, path: '/deadLetter/connection' });
      return refs;
    },
  };
}
