import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { roleAtLeast } from '../auth/roles.js';
import { forbidden } from '../core/errors.js';
import { BasicCredentials, bearer, credentialOf, isBasic } from './auth/credentials.js';
import type { ListenerAuthRegistry, ListenerAuthStrategies } from './auth/listener-auth-registry.js';
import type { ListenerSpec } from './listener-schema.js';

/** The caller of a listener: a user, or nobody for an anonymous strategy such as `auth: none`. */
export type Caller = { login: string | null; principal: Principal | undefined };

/**
 * Authenticates a listener call with the strategy its `auth` names, then checks the caller's role (api
 * by default). Anonymous callers (a strategy that names no user) are not held to a role.
 */
export class ListenerAuth {
  private readonly strategies: ListenerAuthStrategies;
  private readonly basic: BasicCredentials;

  constructor(
    private readonly auth: AuthService,
    private readonly audit: AuditLog,
    registry: ListenerAuthRegistry,
  ) {
    this.strategies = registry.create({ auth });
    this.basic = new BasicCredentials(auth);
  }

  async authenticate(request: FastifyRequest, spec: ListenerSpec): Promise<Caller> {
    const principal = await this.strategies.authenticator(spec.auth, spec.authOptions)(request);
    if (!principal) return { login: null, principal: undefined };
    const required = spec.role ?? 'api';
    if (!roleAtLeast(principal.role, required)) {
      await this.audit.record({
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
    const credential = credentialOf(request);
    return isBasic(credential)
      ? this.basic.verify(credential, request.ip)
      : this.auth.authenticate(bearer(credential));
  }
}
