import { createHash } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Argon2id (algorithm 2; the package ships a const enum we cannot import) at OWASP's baseline: 19 MiB, 2 passes, 1 lane. */
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 8;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/**
 * Verifies a password. For an unknown user call it with `storedHash` undefined: it still spends the
 * time of a real check, so response times do not reveal which logins exist.
 */
let dummyHash: Promise<string> | undefined;
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    dummyHash ??= hashPassword('integrator-timing-equaliser');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

/**
 * A short fingerprint of a stored password hash. Every password change makes a new hash (a new salt),
 * so a token or a remembered Basic credential that carries the fingerprint it was issued under stops
 * matching the moment the password changes. It reveals nothing: the hash is not recoverable from it.
 */
export function passwordVersion(storedHash: string): string {
  return createHash('sha256').update(storedHash).digest('base64url').slice(0, 16);
}
