import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateDataDir } from '../store/database.js';

/**
 * The server secret signs tokens and encrypts connection secrets. It comes from INTEGRATOR_SECRET, or is
 * generated once into `<dataDir>/secret.key` (mode 0600). Every process of a cluster must share it.
 */
export class ServerSecret {
  private constructor(private readonly material: Buffer) {}

  static load(options: { secret?: string | undefined; dataDir: string }): ServerSecret {
    if (options.secret) {
      if (options.secret.length < 32)
        throw new Error('INTEGRATOR_SECRET must be at least 32 characters long');
      return new ServerSecret(Buffer.from(options.secret, 'utf8'));
    }
    privateDataDir(options.dataDir);
    const file = join(options.dataDir, 'secret.key');
    if (!existsSync(file)) {
      // 'wx' fails if another process created it first; then we read theirs.
      try {
        writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
      }
    }
    chmodSync(file, 0o600);
    const text = readFileSync(file, 'utf8').trim();
    if (text.length < 32) throw new Error(`${file} is too short to be a server secret`);
    return new ServerSecret(Buffer.from(text, 'utf8'));
  }

  /** A 32-byte key for one purpose, so token signing and encryption never share a key. */
  derive(purpose: string): Uint8Array {
    return new Uint8Array(hkdfSync('sha256', this.material, 'integrator', purpose, 32));
  }
}
