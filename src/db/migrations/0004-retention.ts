import type { Kysely } from 'kysely';

/**
 * Retention (seed 003): deletion tombstones and a record of swept job inputs.
 *
 * `deleting_at` marks an asset or upload whose deletion has begun. It is set before any file
 * is removed and the row is removed last, so a crash mid-deletion leaves a hidden row that
 * the next sweep finishes — never a visible row pointing at a missing file.
 *
 * `job_input_sweeps` records jobs whose held input copies were deleted, so each job's inputs
 * are swept once rather than re-examined on every sweep. A separate table, not a jobs column,
 * keeps the frozen job row (and its type) untouched.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('assets').addColumn('deleting_at', 'bigint').execute();
  await db.schema.alterTable('uploads').addColumn('deleting_at', 'bigint').execute();
  await db.schema
    .createTable('job_input_sweeps')
    .addColumn('job_id', 'varchar(64)', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('swept_at', 'bigint', (c) => c.notNull())
    .execute();
  // The sweep's candidate scans: expired or old workspace items, old uploads, old finished jobs.
  await db.schema.createIndex('assets_collection_created_idx').on('assets').columns(['collection', 'created_at']).execute();
  await db.schema.createIndex('jobs_finished_idx').on('jobs').columns(['status', 'finished_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('jobs_finished_idx').execute();
  await db.schema.dropIndex('assets_collection_created_idx').execute();
  await db.schema.dropTable('job_input_sweeps').execute();
  await db.schema.alterTable('uploads').dropColumn('deleting_at').execute();
  await db.schema.alterTable('assets').dropColumn('deleting_at').execute();
}
