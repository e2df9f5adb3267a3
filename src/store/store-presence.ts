import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from './database.js';

/**
 * Why there is no metadata store where the settings point, or undefined when there is one. Creates
 * nothing: commands that only inspect a store (audit verify) must not make an empty one and then
 * report on it.
 */
export async function missingStore(settings: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<string | undefined> {
  if (!settings.databaseUrl) {
    const file = join(settings.dataDir, 'integrator.db');
    return existsSync(file) ? undefined : `no metadata store at ${file} (check INTEGRATOR_DATA_DIR)`;
  }
  const store = openStore({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, storePoolSize: 1 });
  try {
    const found = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables
      where table_schema = current_schema() and table_name = 'audit_events'`.execute(store.db);
    return (found.rows[0]?.n ?? 0) > 0
      ? undefined
      : `no metadata store in the database at ${store.location} (check INTEGRATOR_DATABASE_URL)`;
  } catch (err) {
    return `cannot open the metadata store at ${store.location}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await store.close();
  }
}
