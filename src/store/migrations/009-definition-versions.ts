import { type Kysely, sql } from 'kysely';

/**
 * Every saved version of a definition, so any two can be compared and an older one restored. A row is
 * the definition as it was saved (spec without secrets, the secrets sealed as in `definitions`). The
 * versions stored before this migration start their history.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('definition_versions')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('secrets', 'text')
    .addColumn('saved_at', 'text', (c) => c.notNull())
    .addColumn('saved_by', 'text')
    .addColumn('approved_by', 'text')
    .addPrimaryKeyConstraint('definition_versions_pk', ['kind', 'name', 'version'])
    .execute();
  await sql`insert into definition_versions (kind, name, version, spec, secrets, saved_at, saved_by, approved_by)
    select kind, name, version, spec, secrets, updated_at, updated_by, approved_by from definitions`.execute(
    db,
  );
}
