import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { AppError, unauthorized } from '../core/errors.js';
import type { User, UserService } from '../users/user-service.js';
import { API_KEY_PREFIX, type ApiKeyService } from './api-keys.js';
import type { LoginThrottle } from './login-throttle.js';
import { passwordVersion, verifyPassword } from './passwords.js';
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
 * How long a user read for authentication is reused. Every process of a cluster re-reads within this,
 * so disabling, demoting or deleting a user, or changing its password, takes effect everywhere within
 * half a second, whichever process made the change.
 */
const USER_TTL_MS = 500;
/** A verified Basic pair is remembered this long, so a frequent caller does not pay for a hash each time. */
const BASIC_TTL_MS = 30_000;
const CACHE_MAX = 10_000;

type UserState = { user: User; passwordVersion: string } | undefined;

/**
 * Logins and request authentication. Every request checks its credential against the user as it is now
 * (read at most USER_TTL_MS ago): a token carries the password version it was issued under, and a
 * remembered Basic pair the version it was verified against, so neither outlives a password change.
 */
export class AuthService {
  private readonly cache = new Map<string, { state: Promise<UserState>; at: number }>();
  private readonly basicCache = new Map<string, { userId: string; passwordVersion: string; at: number }>();

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
    const token = await this.tokens.issue({
      userId: user.id,
      login: user.login,
      passwordVersion: passwordVersion(user.passwordHash),
    });
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
   * A fresh token for the caller of a request authenticated by a token that has not expired yet, so a
   * console keeps its session without keeping the password. The new token carries the user's current
   * password version and role checks happen per request as always; audited as `token.renewed`.
   */
  async renew(principal: Principal, clientIp: string): Promise<{ token: string; expiresIn: number }> {
    if (principal.via !== 'token') {
      throw new AppError('BAD_REQUEST', 'Only a token can be renewed; an API key does not expire');
    }
    const user = await this.users.findByLogin(principal.login);
    if (!user || user.id !== principal.userId) throw unauthorized('The user of this token no longer exists');
    const token = await this.tokens.issue({
      userId: user.id,
      login: user.login,
      passwordVersion: passwordVersion(user.passwordHash),
    });
    await this.audit.record({
      action: 'token.renewed',
      outcome: 'success',
      actor: user.login,
      clientIp,
      details: { expiresIn: this.tokens.ttl },
    });
    return { token, expiresIn: this.tokens.ttl };
  }

  /**
   * Checks HTTP Basic credentials (listeners that use `auth: basic`) without issuing a token: the same
   * failed-login throttle, and the same audit of failures and lock-outs, as a login. A verified pair is
   * remembered (by a digest) for BASIC_TTL_MS, but only while the user's password is the one it was
   * verified against; the role and the disabled flag are always the user's current ones.
   */
  async authenticatePassword(login: string, password: string, clientIp: string): Promise<Principal> {
    const key = createHash('sha256').update(login).update('\0').update(password).digest('base64url');
    const hit = this.basicCache.get(key);
    if (hit && Date.now() - hit.at < BASIC_TTL_MS) {
      const state = await this.currentUser(hit.userId);
      if (state && state.passwordVersion === hit.passwordVersion) {
        if (state.user.disabled) throw new AppError('FORBIDDEN', 'This user is disabled');
        return { userId: state.user.id, login: state.user.login, role: state.user.role, via: 'password' };
      }
    }
    this.basicCache.delete(key);
    const user = await this.checkPassword(login, password, clientIp);
    if (this.basicCache.size >= CACHE_MAX) this.basicCache.clear();
    this.basicCache.set(key, {
      userId: user.id,
      passwordVersion: passwordVersion(user.passwordHash),
      at: Date.now(),
    });
    return { userId: user.id, login: user.login, role: user.role, via: 'password' };
  }

  /** The user whose password this is; throws 429 while throttled, 401 for a wrong pair, 403 when disabled. */
  private async checkPassword(
    login: string,
    password: string,
    clientIp: string,
  ): Promise<User & { passwordHash: string }> {
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
    let issuedUnder: string | undefined;
    let via: Principal['via'] = 'token';
    if (credential.startsWith(API_KEY_PREFIX)) {
      via = 'api-key';
      userId = await this.apiKeys.resolve(credential);
      if (!userId) throw unauthorized('API key is not valid or has been revoked');
    } else {
      const result = await this.tokens.verify(credential);
      if (!result.ok) throw unauthorized(result.reason);
      userId = result.claims.userId;
      issuedUnder = result.claims.passwordVersion;
    }
    const state = await this.currentUser(userId);
    if (!state) throw unauthorized('The user of this credential no longer exists');
    // An API key is a credential of its own: a password change leaves it valid (revoke it to end it).
    if (issuedUnder !== undefined && issuedUnder !== state.passwordVersion) {
      throw unauthorized('The password of this user has changed since the token was issued; log in again');
    }
    const { user } = state;
    if (user.disabled) throw new AppError('FORBIDDEN', 'This user is disabled');
    return { userId: user.id, login: user.login, role: user.role, via };
  }

  /** Forget cached users after a change, so it applies to this process's next request at once. */
  invalidate(userId?: string): void {
    if (userId) this.cache.delete(userId);
    else this.cache.clear();
  }

  /** Concurrent requests for one user share one read; a failed read is not remembered. */
  private currentUser(id: string): Promise<UserState> {
    const hit = this.cache.get(id);
    const now = Date.now();
    if (hit && now - hit.at < USER_TTL_MS) return hit.state;
    const state = this.users.findCredentials(id);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    const entry = { state, at: now };
    this.cache.set(id, entry);
    state.catch(() => {
      if (this.cache.get(id) === entry) this.cache.delete(id);
    });
    return state;
  }
}
