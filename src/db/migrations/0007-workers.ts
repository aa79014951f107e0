import type { Kysely } from 'kysely';

/**
 * Remote workers (SPEC §6 `remote`): worker tokens, and queue lanes.
 *
 * `worker_tokens` holds the bearer tokens GPU workers pull jobs with (`atw_…`); like API
 * tokens, only their sha256 is stored. They are a separate table from `api_tokens` so a
 * worker token can never act as a user, nor a user token as a worker.
 *
 * `queue_entries.lane` says who may claim an entry: `local` (the in-process runner) or
 * `remote:<backend>` (workers serving that remote backend). Existing entries are local.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('worker_tokens')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('token_hash', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint')
    .execute();
  await db.schema.createIndex('worker_tokens_name_idx').on('worker_tokens').column('name').unique().execute();

  await db.schema.alterTable('queue_entries').addColumn('lane', 'varchar(200)', (c) => c.notNull().defaultTo('local')).execute();
  await db.schema
    .createIndex('queue_entries_lane_claim_idx')
    .on('queue_entries')
    .columns(['lane', 'state', 'priority', 'available_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('queue_entries_lane_claim_idx').execute();
  await db.schema.alterTable('queue_entries').dropColumn('lane').execute();
  await db.schema.dropTable('worker_tokens').ifExists().execute();
}
