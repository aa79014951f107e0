import type { Kysely, Transaction } from 'kysely';
import { dialectOf } from './dialect.js';
import type { Database } from './schema.js';

/**
 * Runs `work` in one transaction with the row of user `userId` locked, so whatever `work`
 * reads about that user (rate-limit counts of their jobs) and what it writes (the job) are one
 * step: a second transaction for the same user waits for the first to commit, then sees it.
 * Commits when `work` resolves; rolls back, and rethrows, when it throws.
 *
 * - PostgreSQL: `SELECT … FOR NO KEY UPDATE` on the user's row, which holds across nodes (and,
 *   unlike FOR UPDATE, does not block rows that merely reference the user); under READ
 *   COMMITTED each read after the lock sees every job committed before it.
 * - SQLite: Kysely's SQLite driver runs one transaction at a time on its single connection,
 *   and SQLite serialises writers across processes, so the transaction alone orders them.
 *
 * Repositories use it; the transaction never leaves `src/db` — callers see it only through
 * interfaces such as `JobCounts`.
 *
 * @example
 * await inUserTransaction(db, row.user_id, async (trx) => {
 *   await guard(createJobCountsRepo(trx));
 *   await trx.insertInto('jobs').values(row).execute();
 * });
 */
export async function inUserTransaction<T>(db: Kysely<Database>, userId: string, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const postgres = dialectOf(db) === 'postgres';
  return db.transaction().execute(async (trx) => {
    if (postgres) await trx.selectFrom('users').select('id').where('id', '=', userId).forNoKeyUpdate().execute();
    return work(trx);
  });
}
