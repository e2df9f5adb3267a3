import { type Kysely, sql } from 'kysely';

/**
 * Idempotency-Keys in a table of their own, so a key outlives its payload: the payload sweep deletes
 * a payload soon after its run ends, while a key is kept for INTEGRATOR_IDEMPOTENCY_WINDOW. The keys
 * payloads hold are carried over; a payload's own key stays for the payloads list, no longer unique
 * (after the window the same key is a new call, while the older payload may still be kept).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('listener', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['listener', 'key'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_created')
    .on('idempotency_keys')
    .column('created_at')
    .execute();
  await sql`insert into idempotency_keys (listener, key, run_id, message_id, created_at)
    select listener, idempotency_key, run_id, message_id, received_at
      from listener_payloads where idempotency_key is not null`.execute(db);
  await db.schema.dropIndex('listener_payloads_idempotency').execute();
}
