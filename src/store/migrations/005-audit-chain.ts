import { type Kysely, sql } from 'kysely';

/** The hash every chain starts from; the same value as GENESIS_HASH in audit/audit-event.ts. */
const GENESIS = '0'.repeat(64);

/**
 * The head of the audit trail's hash chain in a row of its own. An append moves the head with a
 * compare-and-set (`update ... where hash = <the head it chained from>`), which both serialises the
 * processes appending to one store and lets a process that wrote the last group skip reading the head
 * again. It also keeps the hash of the newest event after that event is deleted, so removing the end of
 * the trail breaks the chain like removing any other event does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_chain')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into audit_chain (id, hash)
    select 1, coalesce((select hash from audit_events order by id desc limit 1), ${GENESIS})`.execute(db);
}
