import { AppError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { ListenerAuthRegistry } from './auth/listener-auth-registry.js';
import { type ListenerSpec, listenerSchema } from './listener-schema.js';
import { parsePathPattern } from './path-pattern.js';

/** The other listeners, for the uniqueness check: name and path of each. */
export type ListenerPaths = () => Promise<{ name: string; path: string }[]>;

/**
 * Listeners are validated whole on save: schema, path syntax, reader and auth options, and a path whose shape no
 * other listener has (`patients/{id}` and `patients/{pid}` collide; `patients/new` does not).
 */
export function listenerKind(
  extensions: { formats: FormatRegistry; listenerAuth: ListenerAuthRegistry },
  others: ListenerPaths,
): DefinitionKind<ListenerSpec> {
  const schema = listenerSchema(extensions);
  return {
    kind: 'listener',
    plural: 'listeners',
    title: 'Listener',
    schema,
    readRole: 'viewer',
    order: 30,
    async validate(input, name) {
      const spec = validate(schema, input, 'listener');
      const pattern = parsePathPattern(spec.path);
      spec.path = pattern.source;
      for (const [type, options] of Object.entries(spec.formatOptions ?? {})) {
        extensions.formats.bind({ type, options });
      }
      const authOptions = extensions.listenerAuth.options(spec.auth, spec.authOptions);
      if (spec.authOptions !== undefined) spec.authOptions = authOptions;
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
    references: (spec) => [{ kind: 'flow', name: spec.flow, path: '/flow' }],
    adminOnly(spec, previous) {
      const open = (auth: unknown): boolean =>
        typeof auth === 'string' &&
        extensions.listenerAuth.names().includes(auth) &&
        extensions.listenerAuth.get(auth).anonymous === true;
      const stored: unknown = previous ? Reflect.get(previous, 'auth') : undefined;
      if (open(spec.auth)) {
        return [
          { path: '/auth', message: `auth '${spec.auth}' lets anyone call the listener`, code: 'FORBIDDEN' },
        ];
      }
      if (open(stored)) {
        return [
          {
            path: '/auth',
            message: `the listener is stored with auth '${String(stored)}', which lets anyone call it`,
            code: 'FORBIDDEN',
          },
        ];
      }
      return [];
    },
  };
}

/** The path of a stored listener spec (already validated when it was saved). */
export function listenerPath(spec: unknown): string {
  const path: unknown = typeof spec === 'object' && spec !== null ? Reflect.get(spec, 'path') : undefined;
  return typeof path === 'string' ? path : '';
}
