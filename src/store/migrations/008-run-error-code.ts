import type { Kysely } from 'kysely';

/**
 * The error catalog code of a failed run (e.g. CONSTRAINT_VIOLATION), kept beside its message so the
 * runs API answers it for any run, not only on the call that ran it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('error_code', 'text').execute();
}
