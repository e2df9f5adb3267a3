import type { Kysely } from 'kysely';
import type { StoreDialect } from '../database.js';

/**
 * Payloads accepted by async listeners: committed together with their queued run before the caller gets
 * 202, so an accepted payload survives a crash. `idempotency_key` is unique per listener.
 */
export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('listener_payloads')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('listener', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull().unique())
    .addColumn('idempotency_key', 'text')
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('body', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('listener_payloads_idempotency')
    .on('listener_payloads')
    .columns(['listener', 'idempotency_key'])
    .unique()
    .execute();
}
