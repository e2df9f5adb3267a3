import { AppError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import { bindFormat } from '../formats/registry.js';
import { ListenerSpec } from './listener-schema.js';
import { parsePathPattern } from './path-pattern.js';

/** The other listeners, for the uniqueness check: name and path of each. */
export type ListenerPaths = () => Promise<{ name: string; path: string }[]>;

/**
 * Listeners are validated whole on save: schema, path syntax, reader options, and a path whose shape no
 * other listener has (`patients/{id}` and `patients/{pid}` collide; `patients/new` does not).
 */
export function listenerKind(others: ListenerPaths): DefinitionKind<ListenerSpec> {
  return {
    kind: 'listener',
    plural: 'listeners',
    title: 'Listener',
    schema: ListenerSpec,
    readRole: 'viewer',
    order: 30,
    async validate(input, name) {
      const spec = validate(ListenerSpec, input, 'listener');
      const pattern = parsePathPattern(spec.path);
      spec.path = pattern.source;
      for (const [type, options] of Object.entries(spec.formatOptions ?? {})) {
        bindFormat({ type, options });
      }
      for (const other of await others()) {
        if (other.name === name) continue;
        if (parsePathPattern(other.path).shape === pattern.shape) {
          throw new AppError('CONFLICT', `Listener '${other.name}' already listens at '${other.path}'`, {
            details: [{ path: '/path', message: `taken by listener '${other.name}'` }],
          });
        }
      }
      return spec;
    },
  };
}

/** The path of a stored listener spec (already validated when it was saved). */
export function listenerPath(spec: unknown): string {
  const path: unknown = typeof spec === 'object' && spec !== null ? Reflect.get(spec, 'path') : undefined;
  return typeof path === 'string' ? path : '';
}
