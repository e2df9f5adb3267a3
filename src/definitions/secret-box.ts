import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ServerSecret } from '../auth/server-secret.js';

/**
 * Encrypts connection secrets at rest with AES-256-GCM under a key derived from the server secret.
 * The stored form is `v1.<iv>.<tag>.<ciphertext>` in base64url; the authentication tag makes tampering
 * (or a wrong server secret) fail loudly instead of yielding garbage.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: ServerSecret) {
    this.key = Buffer.from(secret.derive('connection-secrets-aes256gcm'));
  }

  seal(values: Record<string, unknown>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string): Record<string, unknown> {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined)
      throw new Error('Stored secrets have an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    let text: string;
    try {
      text = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error('Stored secrets cannot be decrypted: was INTEGRATOR_SECRET or secret.key changed?');
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('Stored secrets are not an object');
    return Object.fromEntries(Object.entries(parsed));
  }
}
