import type { Kysely } from 'kysely';

/**
 * The prompt cache (seed 002): finished runs by the SHA-256 of everything that shapes their
 * output, so an identical request completes at once with copies of the earlier assets. Jobs
 * record whether they were served from the cache and their cost estimate.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('prompt_cache')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    /** Hash including the seed: what a fixed-seed request matches. */
    .addColumn('seed_hash', 'varchar(64)', (c) => c.notNull())
    /** Hash without the seed: what a seed-agnostic request matches. */
    .addColumn('any_seed_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('job_id', 'varchar(64)', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('prompt_cache_seed_idx').on('prompt_cache').columns(['seed_hash', 'created_at']).execute();
  await db.schema.createIndex('prompt_cache_any_seed_idx').on('prompt_cache').columns(['any_seed_hash', 'created_at']).execute();
  await db.schema.alterTable('jobs').addColumn('cached', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('jobs').addColumn('cached_from', 'varchar(64)').execute();
  await db.schema.alterTable('jobs').addColumn('cost', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('cost').execute();
  await db.schema.alterTable('jobs').dropColumn('cached_from').execute();
  await db.schema.alterTable('jobs').dropColumn('cached').execute();
  await db.schema.dropTable('prompt_cache').execute();
}
