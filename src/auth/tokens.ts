import { createSecretKey, type KeyObject, randomUUID } from 'node:crypto';
import type { ServerSecret } from './server-secret.js';

export interface TokenClaims {
  userId: string;
  login: string;
  /** The user's password version when the token was issued: a password change ends the token. */
  passwordVersion: string;
}

const ISSUER = 'integrator';
/** Verified tokens remembered at most; the map is emptied when it grows past this. */
const VERIFIED_CACHE_SIZE = 10_000;

// The JWT library loads with the first token, so command-line tools that issue none never load it.
let jose: Promise<typeof import('jose')> | undefined;
const loadJose = () => {
  jose ??= import('jose');
  return jose;
};

/**
 * Short-lived bearer tokens: HS256 JWTs signed with a key derived from the server secret.
 *
 * A token whose signature was verified once is remembered (by its exact text) until it expires, so a
 * client calling many times with one token pays for the HMAC check once: only a byte-identical token
 * that this process already verified is accepted from memory, and never past its `exp`.
 */
export class TokenService {
  private readonly key: KeyObject;
  private readonly verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();

  constructor(
    secret: ServerSecret,
    private readonly ttlSeconds: number,
  ) {
    this.key = createSecretKey(secret.derive('jwt-hs256'));
  }

  get ttl(): number {
    return this.ttlSeconds;
  }

  async issue(claims: TokenClaims, ttlSeconds = this.ttlSeconds): Promise<string> {
    const { SignJWT } = await loadJose();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ login: claims.login, pv: claims.passwordVersion })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.key);
  }

  /**
   * Returns the claims, or a reason the token is refused (expired, bad signature, malformed). A token
   * without `exp` is refused: every token this server issues expires.
   */
  async verify(token: string): Promise<{ ok: true; claims: TokenClaims } | { ok: false; reason: string }> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAt) return { ok: true, claims: known.claims };
      this.verified.delete(token);
    }
    const { errors, jwtVerify } = await loadJose();
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
      });
      const login = payload['login'];
      const pv = payload['pv'];
      if (typeof payload.sub !== 'string' || typeof login !== 'string' || typeof pv !== 'string') {
        return { ok: false, reason: 'Token is missing its subject' };
      }
      if (typeof payload.exp !== 'number') return { ok: false, reason: 'Token has no expiry' };
      const claims = { userId: payload.sub, login, passwordVersion: pv };
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
      this.verified.set(token, { claims, expiresAt: payload.exp * 1000 });
      return { ok: true, claims };
    } catch (err) {
      if (err instanceof errors.JWTExpired)
        return { ok: false, reason: 'Token has expired; issue a new one' };
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp')
        return { ok: false, reason: 'Token has no expiry' };
      return { ok: false, reason: 'Token is not valid' };
    }
  }
}
