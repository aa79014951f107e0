import type { Kysely } from 'kysely';
import { TERMINAL_STATUSES } from '../../jobs/job-status.js';
import type { Database, JobRow, NewAssetRow, NewJobRow } from '../schema.js';
import { inUserTransaction } from '../in-user-transaction.js';
import { createJobCountsRepo, type JobCounts } from './job-counts-repo.js';
import { writeLogged, type LoggedChange } from './logged-job-writes.js';

export type { LoggedChange, LoggedEvent } from './logged-job-writes.js';

/**
 * A last check before a job is recorded, run inside the inserting transaction with the
 * user's row locked (`counts` read through that transaction); it throws to refuse the job.
 */
export type InsertGuard = (counts: JobCounts) => Promise<void>;

const ACTIVE = ['queued', 'running'] as const;

/** What {@link JobsRepo.listForUser} filters on; absent filters match everything. */
export interface RunListQuery {
  /** Whose runs; undefined lists every user's (the admin view). */
  readonly userId?: string;
  readonly status?: JobRow['status'];
  readonly mode?: string;
  readonly model?: string;
  /** Rows to return (the caller asks one more to learn whether another page exists). */
  readonly limit: number;
  /** Only rows after this one in the order, exclusive. */
  readonly after?: { readonly createdAt: number; readonly id: string };
}

/**
 * Job records. Every state change is a conditional UPDATE on the current state (and, for the
 * runner, the attempt number), so a stale runner or a late cancel can never move a job
 * backwards or give it a second set of assets. The changes on every job's path — recorded,
 * running, succeeded — append their event to the job's log in the same write and return it
 * (logged-job-writes.ts); the caller announces it.
 */
export interface JobsRepo {
  /**
   * Records a job. With `guard`, the guard runs first inside the inserting transaction, with
   * the user's row locked and the counts read through that transaction; if it throws, nothing
   * is recorded and its error is rethrown (see {@link InsertGuard}). A second job with the same
   * (user, idempotency key) is refused as a unique violation. Logs `queued`.
   */
  insert(row: NewJobRow, guard?: InsertGuard): Promise<LoggedChange>;
  /** A job that is finished on arrival (a prompt-cache hit), with its assets, atomically; `guard` as for {@link JobsRepo.insert}. */
  insertWithAssets(row: NewJobRow, assets: NewAssetRow[], guard?: InsertGuard): Promise<void>;
  /** The job with this id, in any status; undefined when there is none. */
  findById(id: string): Promise<JobRow | undefined>;
  /** The job `userId` submitted with this Idempotency-Key (exact, case-sensitive); keys are per user. */
  findByIdempotencyKey(userId: string, key: string): Promise<JobRow | undefined>;
  /**
   * One page of a user's runs in every status, newest first: ordered by (created_at, id)
   * descending, so `after` (the last row of the previous page) continues exactly where that
   * page ended however many runs were added since (keyset paging).
   */
  listForUser(query: RunListQuery): Promise<JobRow[]>;
  /** Every queued or running job, oldest first (start-up recovery). */
  listActive(): Promise<JobRow[]>;
  /** Queued jobs untouched since `updatedBefore`, oldest first: candidates for a lost queue entry. */
  listQueuedBefore(updatedBefore: number, limit: number): Promise<JobRow[]>;
  /**
   * Starts attempt `attempt` of a queued or running job under `leaseOwner`, resetting its
   * progress, and logs `running` with `data`. Returns the job as it now is; undefined when it
   * is no longer active (finished, canceled or deleted meanwhile).
   */
  markRunning(id: string, attempt: number, leaseOwner: string, leaseExpiresAt: number, now: number, data?: Record<string, unknown>): Promise<LoggedChange | undefined>;
  /** Moves the recorded lease expiry of attempt `attempt`; does nothing for another attempt. */
  extendLease(id: string, attempt: number, leaseExpiresAt: number): Promise<void>;
  /** Records progress `step` of `total` of a running attempt; ignored once the attempt lost the job. */
  updateProgress(id: string, attempt: number, step: number, total: number, now: number): Promise<void>;
  /**
   * Records the assets and the success together, or neither, and logs `succeeded` naming the
   * assets. Undefined if the attempt lost the job.
   */
  succeed(id: string, attempt: number, assets: NewAssetRow[], now: number): Promise<LoggedChange | undefined>;
  /** Fails a queued or running job with the error shown to its owner. False if it had already ended. */
  fail(id: string, code: string, message: string, now: number): Promise<boolean>;
  /**
   * Back to queued after a failed attempt that will be retried; the error stays visible.
   * With `attempt`, only while no later attempt has begun (a late report of an expired lease
   * must not requeue the attempt another node already runs). False when nothing changed.
   */
  requeue(id: string, code: string, message: string, now: number, attempt?: number): Promise<boolean>;
  /** Cancels the job if its status is one of `from` (default: queued or running). */
  cancel(id: string, now: number, from?: readonly ('queued' | 'running')[]): Promise<boolean>;
  /**
   * Terminal jobs finished before `finishedBefore` whose held input copies have not been
   * swept yet. The LIKE is only a cheap pre-filter (specs with a `job-inputs/` key); the
   * caller reads the exact keys from the spec.
   */
  listWithInputsToSweep(finishedBefore: number): Promise<Pick<JobRow, 'id' | 'user_id' | 'spec'>[]>;
  /** Records that a job's input copies are deleted, so later sweeps skip it. */
  markInputsSwept(jobId: string, now: number): Promise<void>;
}

/** The JobsRepo on Kysely (SQLite or PostgreSQL). */
export function createJobsRepo(db: Kysely<Database>): JobsRepo {
  /** `write` after `guard` accepts, in one transaction with the job's user locked (see inUserTransaction). */
  function guarded<T>(userId: string, guard: InsertGuard, write: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return inUserTransaction(db, userId, async (trx) => {
      await guard(createJobCountsRepo(trx));
      return write(trx);
    });
  }

  return {
    async insert(row: NewJobRow, guard?: InsertGuard): Promise<LoggedChange> {
      const write = async (trx: Kysely<Database>) =>
        (await writeLogged(trx, { jobId: row.id, change: (w) => w.insertInto('jobs').values(row).returningAll(), event: { type: 'queued', data: {}, at: Number(row.created_at) } }))!;
      return guard ? guarded(row.user_id, guard, write) : write(db);
    },

    async insertWithAssets(row: NewJobRow, assets: NewAssetRow[], guard?: InsertGuard): Promise<void> {
      const write = async (trx: Kysely<Database>) => {
        await trx.insertInto('jobs').values(row).execute();
        if (assets.length > 0) await trx.insertInto('assets').values(assets).execute();
      };
      if (guard) await guarded(row.user_id, guard, write);
      else await db.transaction().execute(write);
    },

    findById(id: string): Promise<JobRow | undefined> {
      return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    },

    findByIdempotencyKey(userId: string, key: string): Promise<JobRow | undefined> {
      return db.selectFrom('jobs').selectAll().where('user_id', '=', userId).where('idempotency_key', '=', key).executeTakeFirst();
    },

    listForUser(query: RunListQuery): Promise<JobRow[]> {
      let select = db.selectFrom('jobs').selectAll();
      if (query.userId !== undefined) select = select.where('user_id', '=', query.userId);
      if (query.status !== undefined) select = select.where('status', '=', query.status);
      if (query.mode !== undefined) select = select.where('mode', '=', query.mode);
      if (query.model !== undefined) select = select.where('model', '=', query.model);
      const after = query.after;
      if (after !== undefined) {
        select = select.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
      }
      return select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    },

    listActive(): Promise<JobRow[]> {
      return db.selectFrom('jobs').selectAll().where('status', 'in', ACTIVE).orderBy('created_at').execute();
    },

    listQueuedBefore(updatedBefore: number, limit: number): Promise<JobRow[]> {
      return db.selectFrom('jobs').selectAll().where('status', '=', 'queued').where('updated_at', '<', updatedBefore).orderBy('updated_at').limit(limit).execute();
    },

    markRunning(id: string, attempt: number, leaseOwner: string, leaseExpiresAt: number, now: number, data: Record<string, unknown> = { attempt }): Promise<LoggedChange | undefined> {
      return writeLogged(db, {
        jobId: id,
        change: (w) =>
          w
            .updateTable('jobs')
            .set({ status: 'running', attempts: attempt, lease_owner: leaseOwner, lease_expires_at: leaseExpiresAt, progress: 0, progress_step: 0, started_at: now, updated_at: now })
            .where('id', '=', id)
            .where('status', 'in', ACTIVE)
            .returningAll(),
        event: { type: 'running', data, at: now },
      });
    },

    async extendLease(id: string, attempt: number, leaseExpiresAt: number): Promise<void> {
      await db.updateTable('jobs').set({ lease_expires_at: leaseExpiresAt }).where('id', '=', id).where('attempts', '=', attempt).execute();
    },

    async updateProgress(id: string, attempt: number, step: number, total: number, now: number): Promise<void> {
      await db
        .updateTable('jobs')
        .set({ progress: total > 0 ? step / total : 0, progress_step: step, progress_total: total, updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('attempts', '=', attempt)
        .execute();
    },

    succeed(id: string, attempt: number, assets: NewAssetRow[], now: number): Promise<LoggedChange | undefined> {
      return writeLogged(db, {
        jobId: id,
        change: (w) =>
          w
            .updateTable('jobs')
            .set({ status: 'succeeded', progress: 1, lease_owner: null, lease_expires_at: null, error_code: null, error_message: null, finished_at: now, updated_at: now })
            .where('id', '=', id)
            .where('status', '=', 'running')
            .where('attempts', '=', attempt)
            .returningAll(),
        assets,
        event: { type: 'succeeded', data: { assets: assets.map((a) => ({ id: a.id, index: a.asset_index })) }, at: now },
      });
    },

    async fail(id: string, code: string, message: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('jobs')
        .set({ status: 'failed', error_code: code, error_message: message, lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', ACTIVE)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async requeue(id: string, code: string, message: string, now: number, attempt?: number): Promise<boolean> {
      let update = db
        .updateTable('jobs')
        .set({ status: 'queued', error_code: code, error_message: message, lease_owner: null, lease_expires_at: null, progress: 0, progress_step: 0, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', ACTIVE);
      if (attempt !== undefined) update = update.where('attempts', '<=', attempt);
      const result = await update.executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async cancel(id: string, now: number, from: readonly ('queued' | 'running')[] = ACTIVE): Promise<boolean> {
      const result = await db
        .updateTable('jobs')
        .set({ status: 'canceled', error_code: 'job_canceled', error_message: 'The job was canceled', lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', from)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    listWithInputsToSweep(finishedBefore: number): Promise<Pick<JobRow, 'id' | 'user_id' | 'spec'>[]> {
      return db
        .selectFrom('jobs')
        .select(['id', 'user_id', 'spec'])
        .where('status', 'in', TERMINAL_STATUSES)
        .where('finished_at', '<', finishedBefore)
        .where('spec', 'like', '%job-inputs/%')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('job_input_sweeps').select('job_input_sweeps.job_id').whereRef('job_input_sweeps.job_id', '=', 'jobs.id'))))
        .orderBy('finished_at')
        .execute();
    },

    async markInputsSwept(jobId: string, now: number): Promise<void> {
      await db.insertInto('job_input_sweeps').values({ job_id: jobId, swept_at: now }).onConflict((oc) => oc.column('job_id').doNothing()).execute();
    },
  };
}

