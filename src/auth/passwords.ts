import { createHash } from 'node:crypto';

/**
 * The Argon2 binding loads on the first hash or check: a command that lists users, or a server that
 * has not seen a login yet, does not pay for it.
 */
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const loadArgon2 = () => {
  argon2 ??= import('@node-rs/argon2');
  return argon2;
};

/** Argon2id (algorithm 2; the package ships a const enum we cannot import) at OWASP's baseline: 19 MiB, 2 passes, 1 lane. */
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 8;

export async function hashPassword(password: string): Promise<string> {
  return (await loadArgon2()).hash(password, OPTIONS);
}

/**
 * Verifies a password. For an unknown user call it with `storedHash` undefined: it still spends the
 * time of a real check, so response times do not reveal which logins exist.
 */
let dummyHash: Promise<string> | undefined;
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    dummyHash ??= hashPassword('integrator-timing-equaliser');
    const { verify } = await loadArgon2();
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  const { verify } = await loadArgon2();
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
