import type { Kysely } from 'kysely';

/**
 * The admin's jobs listing (GET /api/admin/jobs, issue #16) reads every user's jobs newest
 * first by (created_at, id) with keyset paging; without this index each page (the admin screen
 * reads one every 5 s) sorts the whole jobs table. Per-user listings keep jobs_user_created_idx.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('jobs_created_idx').on('jobs').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('jobs_created_idx').execute();
}
