import { type Static, type TSchema, type TUnsafe, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/auth-service.js';
import { AppError } from '../../core/errors.js';
import { byName, namesSchema } from '../../core/named-entries.js';
import { validate } from '../../core/validate.js';
import type { ListenerAuthServices, ListenerAuthType } from './listener-auth-type.js';

/** A strategy with a listener's options bound: called once per call. */
export type BoundAuthenticator = (request: FastifyRequest) => Promise<Principal | undefined>;

/** The strategies ready for calls: options are checked once per listener definition, not per call. */
export interface ListenerAuthStrategies {
  authenticator(name: string, options: Record<string, unknown> | undefined): BoundAuthenticator;
}

/**
 * The ways listeners may authenticate on one server, built from an explicit list in the composition
 * root. The schema of a listener's `auth` (names and their descriptions) is derived from it, as is the
 * check of `authOptions`.
 */
export class ListenerAuthRegistry {
  private readonly byName: Map<string, ListenerAuthType>;

  constructor(types: readonly ListenerAuthType[]) {
    this.byName = byName('listener auth', types, (t) => t.name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  list(): ListenerAuthType[] {
    return [...this.byName.values()];
  }

  get(name: string): ListenerAuthType {
    const type = this.byName.get(name);
    if (!type) {
      throw new AppError('VALIDATION_FAILED', `Unknown listener auth '${name}'`, {
        details: [{ path: '/auth', message: `must be one of ${this.names().join(', ')}` }],
      });
    }
    return type;
  }

  /** The schema of a listener's `auth`: one of the names, each explained in the description. */
  nameSchema(defaultName: string): TUnsafe<string> {
    const description = this.list()
      .map((t) => `${t.name}: ${t.description}`)
      .join('; ');
    return Type.Unsafe<string>(namesSchema(this.names(), { default: defaultName, description }));
  }

  /** A listener's `authOptions` checked against its strategy's schema, defaults filled in. */
  options(name: string, raw: Record<string, unknown> | undefined): Record<string, unknown> {
    const type = this.get(name);
    const value: unknown = validate(type.optionsSchema, raw ?? {}, `listener authOptions (${name})`);
    return typeof value === 'object' && value !== null ? { ...value } : {};
  }

  /** Builds every strategy once for a server (each may keep state, such as Basic's cache). */
  create(services: ListenerAuthServices): ListenerAuthStrategies {
    const built = new Map(this.list().map((t) => [t.name, ready(t, services)]));
    return {
      authenticator: (name, options) => {
        const strategy = built.get(name);
        // Stored listeners are checked against this registry's schema before any call reaches here.
        if (!strategy) throw new AppError('INTERNAL', `Listener auth '${name}' is not registered`);
        return strategy(options);
      },
    };
  }
}

/** The strategy's per-call function with its options bound, cached per options object. */
function ready<S extends TSchema>(
  type: ListenerAuthType<S>,
  services: ListenerAuthServices,
): (options: Record<string, unknown> | undefined) => BoundAuthenticator {
  const strategy = type.create(services);
  const bound = new WeakMap<object, BoundAuthenticator>();
  const bind = (raw: Record<string, unknown> | undefined): BoundAuthenticator => {
    const key = raw ?? type;
    let fn = bound.get(key);
    if (!fn) {
      const options: Static<S> = validate(
        type.optionsSchema,
        raw ?? {},
        `listener authOptions (${type.name})`,
      );
      fn = (request) => strategy.authenticate(request, options);
      bound.set(key, fn);
    }
    return fn;
  };
  return bind;
}
