import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../../auth/auth-service.js';

/** What an authentication strategy may use: the server's users, tokens, API keys and login throttle. */
export interface ListenerAuthServices {
  auth: AuthService;
}

/** A strategy built for one server (it may keep state, such as a cache of verified credentials). */
export interface ListenerAuthenticator<Options> {
  /**
   * Checks one listener call. Resolves to the caller, or to undefined for an anonymous caller (who is
   * then not held to the listener's role); throws 401/403 (errors.ts `unauthorized`, `forbidden`)
   * otherwise.
   */
  authenticate(request: FastifyRequest, options: Options): Promise<Principal | undefined>;
}

/**
 * One way a listener authenticates its callers, described as data: the name a listener's `auth` gives,
 * a sentence for the schema and docs, and the schema of the listener's `authOptions` for it. `create`
 * is called once per server; what it returns is called on every call, with options that passed
 * `optionsSchema` (defaults filled in).
 */
export interface ListenerAuthType<Schema extends TSchema = TSchema, Name extends string = string> {
  readonly name: Name;
  readonly description: string;
  readonly optionsSchema: Schema;
  /**
   * The strategy lets callers in without any credential. Only an admin may save a listener that uses
   * it, or change one that does.
   */
  readonly anonymous?: boolean;
  create(services: ListenerAuthServices): ListenerAuthenticator<Static<Schema>>;
}

/** Declares a strategy, keeping its name literal so lists of strategies yield a union of their names. */
export function defineListenerAuth<const Name extends string, Schema extends TSchema>(
  type: ListenerAuthType<Schema, Name>,
): ListenerAuthType<Schema, Name> {
  return type;
}
