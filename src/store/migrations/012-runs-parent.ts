import type { Kysely } from 'kysely';

/** The runs a run started (a pipeline's steps), found by an index rather than by reading every run. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('runs_parent').on('runs').columns(['parent_id']).execute();
}
