import { AuditLog } from './audit/audit-log.js';
import { ApiKeyService } from './auth/api-keys.js';
import type { Settings } from './config.js';
import type { Logger } from './core/logger.js';
import { openStore, type Store } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { UserService } from './users/user-service.js';

/**
 * The services that need nothing but the metadata store: the audit trail, users and API keys. The
 * composition root (context.ts) builds on them; the command line's user and audit commands use them
 * alone, so they load none of flows, runs, listeners, connectors or formats.
 */
export interface StoreServices {
  settings: Settings;
  logger: Logger;
  store: Store;
  audit: AuditLog;
  users: UserService;
  apiKeys: ApiKeyService;
}

/** Opens the store and brings its schema up to date. Closing is the caller's: `closeStoreServices`. */
export async function openStoreServices(settings: Settings, logger: Logger): Promise<StoreServices> {
  const store = openStore(settings);
  try {
    await migrateToLatest(store);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const audit = new AuditLog(store, logger);
  const users = new UserService(store, audit);
  const apiKeys = new ApiKeyService(store, audit);
  return { settings, logger, store, audit, users, apiKeys };
}

/** Waits for audit events still being written, then closes the store. */
export async function closeStoreServices(s: Pick<StoreServices, 'audit' | 'store'>): Promise<void> {
  await s.audit.drain();
  await s.store.close();
}
