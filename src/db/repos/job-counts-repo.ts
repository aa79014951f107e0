import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** A user's jobs inside the rate-limit window. */
export interface RecentJobs {
  readonly count: number;
  /** created_at (epoch ms) of the oldest of them, the first to leave the window; undefined when none. */
  readonly oldestCreatedAt: number | undefined;
}

/**
 * The two numbers rate limits are decided on; read from the database, never kept in memory.
 * Inside a job insert (see `InsertGuard` in jobs-repo.ts) they are read through that
 * transaction, with the user's row locked (see `inUserTransaction`).
 */
export interface JobCounts {
  /** Jobs `userId` submitted after `sinceMs` (exclusive), in any status. */
  countRecent(userId: string, sinceMs: number): Promise<RecentJobs>;
  /** Jobs of `userId` that are queued or running now. */
  countRunning(userId: string): Promise<number>;
}

/**
 * The rate-limit queries over the `jobs` table. Because the counts are the job rows
 * themselves, limits hold across restarts and across several servers sharing a database.
 *
 * Every recorded job counts toward the hourly limit whatever became of it — canceled and
 * failed included — because seed 003 limits requests, and a job canceled after it ran has
 * still used the GPU. Requests refused at admission and idempotent replays record no job, so
 * they never count.
 *
 * Both queries are served by the `jobs (user_id, created_at)` index.
 *
 * @example
 * const counts = createJobCountsRepo(db);
 * const { count, oldestCreatedAt } = await counts.countRecent(user.id, Date.now() - 3_600_000);
 */
export function createJobCountsRepo(db: Kysely<Database>): JobCounts {
  return {
    async countRecent(userId, sinceMs) {
      const row = await db
        .selectFrom('jobs')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
        .where('user_id', '=', userId)
        .where('created_at', '>', sinceMs)
        .executeTakeFirstOrThrow();
      // Number(): PostgreSQL returns count and bigint columns as strings.
      return { count: Number(row.n), oldestCreatedAt: row.oldest === null ? undefined : Number(row.oldest) };
    },

    async countRunning(userId) {
      const row = await db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
