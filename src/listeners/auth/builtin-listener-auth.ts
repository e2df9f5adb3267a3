import { basicAuth } from './basic-auth.js';
import { ListenerAuthRegistry } from './listener-auth-registry.js';
import { noAuth } from './no-auth.js';
import { tokenAuth } from './token-auth.js';

/**
 * The ways every server lets listeners authenticate. The composition root builds its
 * ListenerAuthRegistry from this list plus any extra strategies it is given.
 */
export const BUILTIN_LISTENER_AUTH = [tokenAuth, basicAuth, noAuth] as const;

export type BuiltinListenerAuthName = (typeof BUILTIN_LISTENER_AUTH)[number]['name'];

/** A listener without `auth` uses this. */
export const DEFAULT_LISTENER_AUTH: BuiltinListenerAuthName = 'token';

export function builtinListenerAuth(): ListenerAuthRegistry {
  return new ListenerAuthRegistry(BUILTIN_LISTENER_AUTH);
}
