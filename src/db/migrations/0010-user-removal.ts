import { sql, type Kysely } from 'kysely';

/**
 * Removing users (issue #14 §4). A removed user keeps its row — its runs reference it, and stay
 * — but `deleted_at` is set and its API tokens are deleted. The unique index on `name` becomes
 * a partial one over live users, so a name can be given to a new user once its holder is gone.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('deleted_at', 'bigint').execute();
  await db.schema.dropIndex('users_name_idx').execute();
  await db.schema.createIndex('users_live_name_idx').on('users').column('name').unique().where(sql.ref('deleted_at'), 'is', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_live_name_idx').execute();
  await db.deleteFrom('users').where('deleted_at', 'is not', null).execute();
  await db.schema.createIndex('users_name_idx').on('users').column('name').unique().execute();
  await db.schema.alterTable('users').dropColumn('deleted_at').execute();
}
