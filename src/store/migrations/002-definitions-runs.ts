import type { Kysely } from 'kysely';

/** Definitions (connections, flows, listeners, schedules) and the runs of flows. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('definitions')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('secrets', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addPrimaryKeyConstraint('definitions_pk', ['kind', 'name'])
    .execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('flow', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('parent_id', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('rows_read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_written', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('steps', 'text')
    .addColumn('log', 'text')
    .addColumn('worker', 'text')
    .execute();
  await db.schema.createIndex('runs_flow_created').on('runs').columns(['flow', 'created_at']).execute();
  await db.schema.createIndex('runs_status').on('runs').columns(['status', 'created_at']).execute();
}
