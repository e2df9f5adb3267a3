import { resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { FileRoots } from '../connectors/file-access.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import { AppError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { AdminOnlySetting, DefinitionKind } from '../definitions/definition-kind.js';

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

/** The local paths a connection's settings name, resolved as its connector resolves them. */
function localPaths(
  connectors: ConnectorRegistry,
  spec: Record<string, unknown>,
  dataDir: string,
): { field: string; full: string }[] {
  const { type, config } = connectorConfig(spec);
  const paths = connectors.get(type).localPaths?.(config) ?? [];
  return paths.map((p) => ({ field: p.field, full: resolve(dataDir, p.path) }));
}

/**
 * Connections are validated by the connector their `type` names; the schema is every connector's. A
 * connection naming the data directory's own files is refused for everybody; one outside the file roots
 * needs an admin (then it stays usable outside them: see ConnectorPool).
 */
export function connectionKind(
  connectors: ConnectorRegistry,
  files: { roots: FileRoots; dataDir: string },
): DefinitionKind<ConnectionSpec> {
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
    async validate(input) {
      const spec = validate(ConnectionBase, input, 'connection');
      const { type, config } = connectorConfig(spec);
      const ct = connectors.get(type);
      const checked: unknown = validate(ct.configSchema, config, `${type} connection`);
      const fields =
        typeof checked === 'object' && checked !== null ? Object.fromEntries(Object.entries(checked)) : {};
      ct.validate?.(fields);
      const out: ConnectionSpec = {
        ...fields,
        type,
        ...(spec.description === undefined ? {} : { description: spec.description }),
      };
      const problems: { path: string; message: string }[] = [];
      for (const p of localPaths(connectors, out, files.dataDir)) {
        const problem = await files.roots.problem(p.full, true);
        if (problem) problems.push({ path: p.field, message: problem });
      }
      if (problems.length > 0) {
        throw new AppError('PATH_NOT_ALLOWED', `${problems[0]?.path}: ${problems[0]?.message}`, {
          details: problems,
        });
      }
      return out;
    },
    async adminOnly(spec) {
      const out: AdminOnlySetting[] = [];
      for (const p of localPaths(connectors, spec, files.dataDir)) {
        const problem = await files.roots.problem(p.full, false);
        if (problem) out.push({ path: p.field, message: problem, code: 'PATH_NOT_ALLOWED' });
      }
      return out;
    },
    secretFields(spec) {
      return connectors.get(spec.type).secretFields;
    },
  };
}
