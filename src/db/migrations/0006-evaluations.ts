import type { Kysely } from 'kysely';

/**
 * Evaluation scores (SPEC §7, seed 002's Evaluation model): one row per (asset, metric) —
 * SSIM/PSNR against the i2i reference, perceptual hash and batch diversity, CLIP score.
 * Rows are derived data: they cascade with their asset, and `job_id` is kept (without a
 * foreign key; the asset already ties them to the job) so a job's scores read in one query.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('evaluations')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('asset_id', 'varchar(64)', (c) => c.notNull().references('assets.id').onDelete('cascade'))
    .addColumn('job_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('metric', 'varchar(32)', (c) => c.notNull())
    .addColumn('value', 'real', (c) => c.notNull())
    .addColumn('details', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('evaluations_asset_idx').on('evaluations').column('asset_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('evaluations').ifExists().execute();
}
