import { type Static, Type } from '@sinclair/typebox';
import type { ConnectorRegistry } from '../connectors/registry.js';
import { AppError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';

/** A connection: `type` plus that connector's own settings, flat. */
const ConnectionBase = Type.Object(
  {
    type: Type.String({ description: 'The connector' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: true },
);
export type ConnectionSpec = Static<typeof ConnectionBase> & Record<string, unknown>;

/** Splits a connection spec into its type, description and the connector's config. */
export function connectorConfig(spec: Record<string, unknown>): {
  type: string;
  config: Record<string, unknown>;
} {
  const { type, description: _d, ...config } = spec;
  if (typeof type !== 'string') throw new AppError('VALIDATION_FAILED', 'connection: /type is required');
  return { type, config };
}

/** Connections are validated by the connector their `type` names; the schema is every connector's. */
export function connectionKind(connectors: ConnectorRegistry): DefinitionKind<ConnectionSpec> {
  return {
    kind: 'connection',
    plural: 'connections',
    title: 'Connection',
    schema: Type.Union(
      connectors.list().map((t) =>
        Type.Intersect(
          [
            Type.Object({
              type: Type.Literal(t.type),
              description: Type.Optional(Type.String()),
            }),
            t.configSchema,
          ],
          { title: t.title },
        ),
      ),
    ),
    order: 10,
    validate(input) {
      const spec = validate(ConnectionBase, input, 'connection');
      const { type, config } = connectorConfig(spec);
      const ct = connectors.get(type);
      const checked: unknown = validate(ct.configSchema, config, `${type} connection`);
      const fields =
        typeof checked === 'object' && checked !== null ? Object.fromEntries(Object.entries(checked)) : {};
      return {
        ...fields,
        type,
        ...(spec.description === undefined ? {} : { description: spec.description }),
      };
    },
    secretFields(spec) {
      return connectors.get(spec.type).secretFields;
    },
  };
}
