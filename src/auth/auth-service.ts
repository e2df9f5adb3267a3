import type { AuditLog } from '../audit/audit-log.js';
import { AppError, unauthorized } from '../core/errors.js';
import type { User, UserService } from '../users/user-service.js';
import { API_KEY_PREFIX, type ApiKeyService } from './api-keys.js';
import type { LoginThrottle } from './login-throttle.js';
import { verifyPassword } from './passwords.js';
import type { Role } from './roles.js';
import type { TokenService } from './tokens.js';

/** Who is calling: resolved once per request from its bearer token or API key. */
export interface Principal {
  userId: string;
  login: string;
  role: Role;
  via: 'token' | 'api-key' | 'password';
}

const BAD_CREDENTIALS = 'Login or password is incorrect';

/**
 * Logins and request authentication. Users are re-read (cached for two seconds) on every request, so
 * disabling a user or changing a role takes effect within seconds, not when the token expires.
 */
export class AuthService {
  private readonly cache = new Map<string, { user: User | undefined; at: number }>();

  constructor(
    private readonly users: UserService,
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeyService,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditLog,
  ) {}

  /** Checks a login and password and issues a token. Every attempt is audited. */
  async login(
    login: string,
    password: string,
    clientIp: string,
  ): Promise<{ token: string; expiresIn: number }> {
    const started = performance.now();
    const user = await this.checkPassword(login, password, clientIp);
    const token = await this.tokens.issue({ userId: user.id, login: user.login });
    await this.audit.record({
      action: 'login.succeeded',
      outcome: 'success',
      actor: login,
      clientIp,
      durationMs: performance.now() - started,
    });
    await this.audit.record({
      action: 'token.issued',
      outcome: 'success',
      actor: login,
      clientIp,
      details: { expiresIn: this.tokens.ttl },
    });
    return { token, expiresIn: this.tokens.ttl };
  }

  /**
   * Checks HTTP Basic credentials (listeners that use `auth: basic`) without issuing a token: the same
   * failed-login throttle, and the same audit of failures and lock-outs, as a login.
   */
  async authenticatePassword(login: string, password: string, clientIp: string): Promise<Principal> {
    const user = await this.checkPassword(login, password, clientIp);
    return { userId: user.id, login: user.login, role: user.role, via: 'password' };
  }

  /** The user whose password this is; throws 429 while throttled, 401 for a wrong pair, 403 when disabled. */
  private async checkPassword(login: string, password: string, clientIp: string): Promise<User> {
    const started = performance.now();
    const wait = this.throttle.retryAfter(login, clientIp);
    if (wait > 0) {
      if (this.throttle.firstRefusal(login, clientIp)) {
        await this.audit.record({
          action: 'login.throttled',
          outcome: 'denied',
          actor: login,
          clientIp,
          details: { retryAfterSeconds: wait },
        });
      }
      throw new AppError('TOO_MANY_REQUESTS', `Too many failed logins; try again in ${wait} seconds`, {
        headers: { 'retry-after': String(wait) },
      });
    }
    const user = await this.users.findByLogin(login);
    const ok = await verifyPassword(user?.passwordHash, password);
    const durationMs = performance.now() - started;
    if (!user || !ok) {
      this.throttle.fail(login, clientIp);
      await this.audit.record({
        action: 'login.failed',
        outcome: 'failure',
        actor: login,
        clientIp,
        durationMs,
      });
      throw unauthorized(BAD_CREDENTIALS);
    }
    if (user.disabled) {
      await this.audit.record({
        action: 'login.failed',
        outcome: 'denied',
        actor: login,
        clientIp,
        durationMs,
        details: { reason: 'user disabled' },
      });
      throw new AppError('FORBIDDEN', 'This user is disabled');
    }
    this.throttle.succeed(login, clientIp);
    return user;
  }

  /**
   * Resolves `Authorization: Bearer <token|api key>`. Throws 401 for a missing, malformed, expired or
   * revoked credential, and 403 for a disabled user.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthorized();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const credential = match?.[1];
    if (!credential) throw unauthorized('Authorization header must be "Bearer <token>"');
    let userId: string | undefined;
    let via: Principal['via'] = 'token';
    if (credential.startsWith(API_KEY_PREFIX)) {
      via = 'api-key';
      userId = await this.apiKeys.resolve(credential);
      if (!userId) throw unauthorized('API key is not valid or has been revoked');
    } else {
      const result = await this.tokens.verify(credential);
      if (!result.ok) throw unauthorized(result.reason);
      userId = result.claims.userId;
    }
    const user = await this.cachedUser(userId);
    if (!user) throw unauthorized('The user of this credential no longer exists');
    if (user.disabled) throw new AppError('FORBIDDEN', 'This user is disabled');
    return { userId: user.id, login: user.login, role: user.role, via };
  }

  /** Forget cached users after a change, so it applies to the next request. */
  invalidate(userId?: string): void {
    if (userId) this.cache.delete(userId);
    else this.cache.clear();
  }

  private async cachedUser(id: string): Promise<User | undefined> {
    const hit = this.cache.get(id);
    const now = Date.now();
    if (hit && now - hit.at < 2000) return hit.user;
    const user = await this.users.findById(id);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { user, at: now });
    return user;
  }
}
