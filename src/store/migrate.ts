import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { AppError, errorMessage } from '../core/errors.js';
import type { Store, StoreDialect } from './database.js';
import * as m001 from './migrations/001-auth-audit.js';
import * as m002 from './migrations/002-definitions-runs.js';
import * as m003 from './migrations/003-listeners.js';
import * as m004 from './migrations/004-schedules-queue.js';
import * as m005 from './migrations/005-audit-chain.js';
import * as m006 from './migrations/006-definition-approval.js';
import * as m007 from './migrations/007-idempotency-keys.js';
import * as m008 from './migrations/008-run-error-code.js';
import * as m009 from './migrations/009-definition-versions.js';
import * as m010 from './migrations/010-subscriptions.js';
import * as m011 from './migrations/011-runs-created.js';
import * as m012 from './migrations/012-runs-parent.js';

type Step = { up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> };

/** Every migration, in order. Names never change once released. */
const MIGRATIONS: Record<string, Step> = {
  '001-auth-audit': m001,
  '002-definitions-runs': m002,
  '003-listeners': m003,
  '004-schedules-queue': m004,
  '005-audit-chain': m005,
  '006-definition-approval': m006,
  '007-idempotency-keys': m007,
  '008-run-error-code': m008,
  '009-definition-versions': m009,
  '010-subscriptions': m010,
  '011-runs-created': m011,
  '012-runs-parent': m012,
};

class InlineProvider implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, step] of Object.entries(MIGRATIONS)) {
      out[name] = { up: (db) => step.up(db, this.dialect) };
    }
    return out;
  }
}

/** Brings the store's schema up to date. Safe to call from several processes at once on PostgreSQL. */
export async function migrateToLatest(store: Store): Promise<void> {
  // Features add migrations on separate branches (003 and 004 were written side by side), so a store
  // that ran a later one must still accept an earlier one added afterwards.
  const migrator = new Migrator({
    db: store.db,
    provider: new InlineProvider(store.dialect),
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (!error && !failed) return;
  const reason = error === undefined ? 'unknown error' : errorMessage(error);
  if (failed) throw new Error(`Store migration ${failed.migrationName} failed: ${reason}`);
  // No migration ran: the store could not be reached or opened at all.
  const setting = store.dialect === 'postgres' ? 'INTEGRATOR_DATABASE_URL' : 'INTEGRATOR_DATA_DIR';
  throw new AppError(
    'STORE_UNAVAILABLE',
    `cannot open the metadata store ${store.location} (${setting}): ${reason}`,
    {
      cause: error,
    },
  );
}
