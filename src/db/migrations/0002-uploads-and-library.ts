import type { Kysely } from 'kysely';

/**
 * Uploads (presigned or direct) and library copies: an asset may now exist once per
 * collection, so saving to the library adds a row instead of moving one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('filename', 'varchar(255)', (c) => c.notNull())
    .addColumn('declared_size', 'bigint')
    .addColumn('storage_key', 'varchar(1024)')
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('url_expires_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .execute();
  await db.schema.createIndex('uploads_user_idx').on('uploads').columns(['user_id', 'created_at']).execute();

  await db.schema.dropIndex('assets_job_index_idx').execute();
  await db.schema.createIndex('assets_job_collection_index_idx').on('assets').columns(['job_id', 'collection', 'asset_index']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('assets_job_collection_index_idx').execute();
  await db.schema.createIndex('assets_job_index_idx').on('assets').columns(['job_id', 'asset_index']).unique().execute();
  await db.schema.dropTable('uploads').execute();
}
