import type { Kysely } from 'kysely';

/**
 * The run queue's bookkeeping on runs (earliest start for retry backoff, worker heartbeat, the schedule
 * that fired a run and the lane that serialises a schedule's runs) and the fired schedule ticks, whose
 * primary key makes each tick fire once across the cluster.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds a single column per ALTER TABLE.
  for (const column of ['not_before', 'heartbeat_at', 'schedule', 'lane']) {
    await db.schema.alterTable('runs').addColumn(column, 'text').execute();
  }
  await db.schema.createIndex('runs_flow_status').on('runs').columns(['flow', 'status']).execute();
  await db.schema.createIndex('runs_schedule_status').on('runs').columns(['schedule', 'status']).execute();
  await db.schema
    .createTable('schedule_fires')
    .addColumn('schedule', 'text', (c) => c.notNull())
    .addColumn('fire_time', 'text', (c) => c.notNull())
    .addColumn('fired_at', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('schedule_fires_pk', ['schedule', 'fire_time'])
    .execute();
}
