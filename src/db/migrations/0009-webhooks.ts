import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

/**
 * Webhooks (issue #14 §2).
 *
 * - `jobs.webhook_url` and `jobs.webhook_events` (a comma list such as `succeeded,failed,canceled`):
 *   where a run reports to, and which of its status changes it reports.
 * - `webhook_deliveries`: one row per (run, event) — the message, whose id is the `webhook-id`
 *   every attempt sends — with its attempts, when the next is due and how the last went.
 * - `webhook_attempts`: one row per finished attempt, for `GET /api/runs/{id}/webhooks`.
 * - `webhook_secrets`: each user's signing secret (`whsec_…`).
 *
 * A delivery is enqueued by a trigger on `jobs`, not by the code that changes a status. The
 * trigger runs inside the statement that changes the status, so the two commit together or
 * not at all: whichever path ends a run (the runner, a remote worker's completion, a cancel,
 * lease expiry, a prompt-cache hit, a writer added later), a crash can never leave a changed
 * status without its delivery, nor a delivery for a change that did not happen. Writing the row
 * from the repositories instead would have needed a transaction around `fail` and `cancel` on
 * SQLite (two more statements for every job) and a copy of the rule in every writer; a sweep
 * over `job_events` would have missed the `failed` and `canceled` events, which are appended
 * after their status change rather than with it. The trigger's WHEN clause reads only the new
 * row, so runs without a webhook pay nothing. `(job_id, event)` is unique: a run that starts
 * again after a retry reports `running` once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema.alterTable('jobs').addColumn('webhook_url', 'text').execute();
  await db.schema.alterTable('jobs').addColumn('webhook_events', 'varchar(64)').execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('job_id', 'varchar(64)', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('event', 'varchar(16)', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    // pending (due at next_attempt_at), delivered, or failed (given up).
    .addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('claimed_by', 'varchar(200)')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('webhook_deliveries_job_event_key', ['job_id', 'event'])
    .execute();
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('delivery_id', 'varchar(64)', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
    .execute();

  await db.schema
    .createTable('webhook_secrets')
    .addColumn('user_id', 'varchar(64)', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  if (postgres) await createPostgresTriggers(db);
  else await createSqliteTriggers(db);
}

/**
 * SQLite: the trigger body is plain SQL. The message id is `msg_` + 128 random bits; the
 * delivery is due at once (the status change's `updated_at`, the writer's clock).
 */
async function createSqliteTriggers(db: Kysely<any>): Promise<void> {
  const insert = sql`
    insert or ignore into webhook_deliveries (id, job_id, user_id, event, url, state, attempts, next_attempt_at, created_at)
    values ('msg_' || lower(hex(randomblob(16))), new.id, new.user_id, new.status, new.webhook_url, 'pending', 0, new.updated_at, new.updated_at);`;
  const subscribed = sql`new.webhook_url is not null and instr(',' || new.webhook_events || ',', ',' || new.status || ',') > 0`;
  await sql`create trigger jobs_webhook_on_update after update of status on jobs
    for each row when new.status <> old.status and ${subscribed}
    begin ${insert} end`.execute(db);
  // A run finished on arrival (a prompt-cache hit) is inserted as succeeded.
  await sql`create trigger jobs_webhook_on_insert after insert on jobs
    for each row when ${subscribed}
    begin ${insert} end`.execute(db);
}

/**
 * PostgreSQL: one function for both triggers. `set search_path from current` binds the
 * function to the schema it was created in (DATABASE_URL's `?schema=`), whoever fires it.
 */
async function createPostgresTriggers(db: Kysely<any>): Promise<void> {
  await sql`create function atelier_enqueue_webhook() returns trigger language plpgsql set search_path from current as $$
    begin
      insert into webhook_deliveries (id, job_id, user_id, event, url, state, attempts, next_attempt_at, created_at)
      values ('msg_' || replace(gen_random_uuid()::text, '-', ''), new.id, new.user_id, new.status, new.webhook_url, 'pending', 0, new.updated_at, new.updated_at)
      on conflict (job_id, event) do nothing;
      return null;
    end $$`.execute(db);
  const subscribed = sql`new.webhook_url is not null and position(',' || new.status || ',' in ',' || new.webhook_events || ',') > 0`;
  await sql`create trigger jobs_webhook_on_update after update of status on jobs
    for each row when (new.status is distinct from old.status and ${subscribed})
    execute function atelier_enqueue_webhook()`.execute(db);
  await sql`create trigger jobs_webhook_on_insert after insert on jobs
    for each row when (${subscribed})
    execute function atelier_enqueue_webhook()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists jobs_webhook_on_insert${dialectOf(db) === 'postgres' ? sql` on jobs` : sql``}`.execute(db);
  await sql`drop trigger if exists jobs_webhook_on_update${dialectOf(db) === 'postgres' ? sql` on jobs` : sql``}`.execute(db);
  if (dialectOf(db) === 'postgres') await sql`drop function if exists atelier_enqueue_webhook()`.execute(db);
  await db.schema.dropTable('webhook_secrets').ifExists().execute();
  await db.schema.dropTable('webhook_attempts').ifExists().execute();
  await db.schema.dropTable('webhook_deliveries').ifExists().execute();
  await db.schema.alterTable('jobs').dropColumn('webhook_events').execute();
  await db.schema.alterTable('jobs').dropColumn('webhook_url').execute();
}
