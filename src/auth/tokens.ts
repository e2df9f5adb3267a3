import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { ServerSecret } from './server-secret.js';

export interface TokenClaims {
  userId: string;
  login: string;
}

const ISSUER = 'integrator';

/** Short-lived bearer tokens: HS256 JWTs signed with a key derived from the server secret. */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: ServerSecret,
    private readonly ttlSeconds: number,
  ) {
    this.key = secret.derive('jwt-hs256');
  }

  get ttl(): number {
    return this.ttlSeconds;
  }

  async issue(claims: TokenClaims, ttlSeconds = this.ttlSeconds): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ login: claims.login })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.key);
  }

  /** Returns the claims, or a reason the token is refused (expired, bad signature, malformed). */
  async verify(token: string): Promise<{ ok: true; claims: TokenClaims } | { ok: false; reason: string }> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload['login'] !== 'string') {
        return { ok: false, reason: 'Token is missing its subject' };
      }
      return { ok: true, claims: { userId: payload.sub, login: payload['login'] } };
    } catch (err) {
      if (err instanceof errors.JWTExpired)
        return { ok: false, reason: 'Token has expired; issue a new one' };
      return { ok: false, reason: 'Token is not valid' };
    }
  }
}
