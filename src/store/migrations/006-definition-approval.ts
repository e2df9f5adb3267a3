import type { Kysely } from 'kysely';

/**
 * Who approved a definition that only an admin may save (a connection outside INTEGRATOR_FILE_ROOTS).
 * Kept beside the spec, not in it, so no spec a caller sends can claim an approval.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('definitions').addColumn('approved_by', 'text').execute();
}
