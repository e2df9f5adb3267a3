import type { FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../../auth/auth-service.js';
import { unauthorized } from '../../core/errors.js';

/**
 * The credential of a listener call: the Authorization header or, for clients that cannot set headers,
 * the `Authorization` query parameter.
 */
export function credentialOf(request: FastifyRequest): string | undefined {
  return request.headers.authorization ?? queryCredential(request.query);
}

export function isBasic(credential: string | undefined): credential is string {
  return credential !== undefined && /^Basic\s/i.test(credential);
}

/** A bare token or key counts as a bearer credential. */
export function bearer(credential: string | undefined): string | undefined {
  if (credential === undefined || credential === '') return undefined;
  return /^\w+\s/.test(credential) ? credential : `Bearer ${credential}`;
}

function queryCredential(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const value: unknown = Reflect.get(query, 'Authorization') ?? Reflect.get(query, 'authorization');
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * HTTP Basic checked against the users. AuthService remembers verified pairs only while the user's
 * password, role and state allow; failures go through the login throttle (429 after repeated ones).
 */
export class BasicCredentials {
  constructor(private readonly auth: AuthService) {}

  async verify(header: string, clientIp: string): Promise<Principal> {
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw unauthorized('Authorization: Basic needs base64 of login:password');
    return this.auth.authenticatePassword(decoded.slice(0, colon), decoded.slice(colon + 1), clientIp);
  }
}
