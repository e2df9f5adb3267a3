import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { type Actor, audited } from '../audit/audited.js';
import { notFound } from '../core/errors.js';
import type { Store } from '../store/database.js';

export interface ApiKeyInfo {
  id: string;
  userId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Keys look like `ik_<id>_<secret>`; only a SHA-256 of the secret is stored (it has 256 bits of entropy). */
export const API_KEY_PREFIX = 'ik_';

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export class ApiKeyService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  /** Creates a key; the returned `key` is shown once and cannot be recovered. */
  create(
    owner: { id: string; login: string },
    name: string,
    by: Actor,
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    return audited(
      this.audit,
      by,
      'apikey.created',
      owner.login,
      () => this.insert(owner.id, name),
      (r) => ({ keyId: r.info.id, name }),
    );
  }

  private async insert(userId: string, name: string): Promise<{ key: string; info: ApiKeyInfo }> {
    const id = randomUUID().replaceAll('-', '');
    const secret = randomBytes(32).toString('base64url');
    const createdAt = new Date().toISOString();
    await this.store.db
      .insertInto('api_keys')
      .values({ id, user_id: userId, name, key_hash: digest(secret).toString('hex'), created_at: createdAt })
      .execute();
    return {
      key: `${API_KEY_PREFIX}${id}_${secret}`,
      info: { id, userId, name, createdAt, lastUsedAt: null, revokedAt: null },
    };
  }

  async list(userId?: string): Promise<ApiKeyInfo[]> {
    let q = this.store.db.selectFrom('api_keys').selectAll();
    if (userId) q = q.where('user_id', '=', userId);
    const rows = await q.orderBy('created_at').execute();
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      name: r.name,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      revokedAt: r.revoked_at,
    }));
  }

  async get(id: string): Promise<ApiKeyInfo> {
    const [key] = (await this.list()).filter((k) => k.id === id);
    if (!key) throw notFound('API key', id);
    return key;
  }

  revoke(id: string, by: Actor): Promise<void> {
    return audited(this.audit, by, 'apikey.revoked', id, async () => {
      const res = await this.store.db
        .updateTable('api_keys')
        .set({ revoked_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) await this.get(id);
    });
  }

  /** The owner's user id when the key is valid and not revoked. Compares digests in constant time. */
  async resolve(key: string): Promise<string | undefined> {
    const match = /^ik_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(key);
    if (!match) return undefined;
    const [, id, secret] = match;
    if (!id || !secret) return undefined;
    const row = await this.store.db
      .selectFrom('api_keys')
      .select(['user_id', 'key_hash', 'revoked_at', 'last_used_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.revoked_at) return undefined;
    const expected = Buffer.from(row.key_hash, 'hex');
    const actual = digest(secret);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    // Touch last_used_at at most once a minute: a hot key must not turn every call into a write.
    const now = Date.now();
    if (!row.last_used_at || now - Date.parse(row.last_used_at) > 60_000) {
      await this.store.db
        .updateTable('api_keys')
        .set({ last_used_at: new Date(now).toISOString() })
        .where('id', '=', id)
        .execute();
    }
    return row.user_id;
  }
}
