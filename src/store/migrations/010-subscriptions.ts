import type { Kysely } from 'kysely';

/**
 * Subscriptions: whether one is paused (shared by every process of a cluster, which each consume it),
 * and what each process consuming one last reported (its state and counters), so status, pause and
 * resume work from any process and from the CLI.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subscription_states')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('paused', 'integer', (c) => c.notNull())
    .addColumn('changed_by', 'text')
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('subscription_workers')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('consumed', 'bigint', (c) => c.notNull())
    .addColumn('acked', 'bigint', (c) => c.notNull())
    .addColumn('failed', 'bigint', (c) => c.notNull())
    .addColumn('dead_lettered', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscription_workers_pk', ['name', 'worker'])
    .execute();
}
