import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/auth-service.js';
import { roleAtLeast } from '../auth/roles.js';
import type { Context } from '../context.js';
import { forbidden, unauthorized } from '../core/errors.js';
import type { ListenerSpec } from './listener-schema.js';

/** A verified Basic credential is trusted this long, so each call does not pay for a password hash. */
const BASIC_CACHE_MS = 30_000;

/** The caller of a listener: a user, or nobody for `auth: none`. */
export type Caller = { login: string | null; principal: Principal | undefined };

/**
 * Authenticates a listener call the way the listener asks, then checks the caller's role (api by
 * default). The credential comes from the Authorization header or, for clients that cannot set headers,
 * the `Authorization` query parameter.
 */
export class ListenerAuth {
  private readonly basicCache = new Map<string, { principal: Principal; at: number }>();

  constructor(private readonly ctx: Context) {}

  async authenticate(request: FastifyRequest, spec: ListenerSpec): Promise<Caller> {
    if (spec.auth === 'none') return { login: null, principal: undefined };
    const credential = request.headers.authorization ?? queryCredential(request.query);
    const principal =
      spec.auth === 'basic' && credential !== undefined && /^Basic\s/i.test(credential)
        ? await this.basic(credential, request.ip)
        : await this.ctx.auth.authenticate(bearer(credential));
    const required = spec.role ?? 'api';
    if (!roleAtLeast(principal.role, required)) {
      await this.ctx.audit.record({
        action: 'access.denied',
        outcome: 'denied',
        actor: principal.login,
        target: `${request.method} ${request.url.split('?')[0]}`,
        clientIp: request.ip,
        details: { role: principal.role, required },
      });
      throw forbidden(`This listener needs the ${required} role or higher; you are ${principal.role}`);
    }
    return { login: principal.login, principal };
  }

  /**
   * Who calls a path where no listener is: anyone with a valid credential of any kind learns that
   * (404); anyone else gets 401, so listener paths cannot be probed without a credential.
   */
  async identify(request: FastifyRequest): Promise<Principal> {
    const credential = request.headers.authorization ?? queryCredential(request.query);
    return credential !== undefined && /^Basic\s/i.test(credential)
      ? this.basic(credential, request.ip)
      : this.ctx.auth.authenticate(bearer(credential));
  }

  /**
   * A verified pair is remembered for 30 s (by a hash of the header), so a client calling often does not
   * pay for a password hash each time; failures go through the login throttle (429 after repeated ones).
   */
  private async basic(header: string, clientIp: string): Promise<Principal> {
    const key = createHash('sha256').update(header).digest('hex');
    const hit = this.basicCache.get(key);
    if (hit && Date.now() - hit.at < BASIC_CACHE_MS) return hit.principal;
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw unauthorized('Authorization: Basic needs base64 of login:password');
    const principal = await this.ctx.auth.authenticatePassword(
      decoded.slice(0, colon),
      decoded.slice(colon + 1),
      clientIp,
    );
    if (this.basicCache.size > 10_000) this.basicCache.clear();
    this.basicCache.set(key, { principal, at: Date.now() });
    return principal;
  }
}

function bearer(credential: string | undefined): string | undefined {
  if (credential === undefined || credential === '') return undefined;
  return /^\w+\s/.test(credential) ? credential : `Bearer ${credential}`;
}

function queryCredential(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const value: unknown = Reflect.get(query, 'Authorization') ?? Reflect.get(query, 'authorization');
  return typeof value === 'string' && value !== '' ? value : undefined;
}
