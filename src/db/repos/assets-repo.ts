import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { AssetRow, Database, NewAssetRow } from '../schema.js';

/** An asset row with the prompt and model of the job that made it (gallery and history views). */
export interface HistoryRow extends AssetRow {
  readonly prompt: string;
  readonly model: string;
}

/** What {@link AssetsRepo.historyPage} narrows to besides the user and the type; absent filters match everything. */
export interface HistoryFilter {
  readonly collection?: 'workspace' | 'library';
  /** Text the prompt contains, case-insensitively (`%` and `_` are plain characters here). */
  readonly prompt?: string;
}

/** Which workspace items retention takes: expired ones, and any created before `createdBefore`. */
export interface ExpiryCutoff {
  /** Items whose `expires_at` is at or before this have expired. */
  readonly now: number;
  /** Items created at or before this are past the retention period, expiry or not. */
  readonly createdBefore: number;
}

/**
 * Asset records (rows only; the bytes live in Storage). Rows with `deleting_at` set are being
 * deleted: every read except the retention ones treats them as gone.
 */
export interface AssetsRepo {
  /** The live assets of a job, in asset order. */
  listForJob(jobId: string): Promise<AssetRow[]>;
  /** The live assets of several jobs at once (a page of runs), by job then index. */
  listForJobs(jobIds: readonly string[]): Promise<AssetRow[]>;
  /** Records one asset; a second asset in the same (job, collection, index) slot is a unique violation. */
  insert(row: NewAssetRow): Promise<void>;
  /** The live asset at `index` of a job in `collection` (a library copy, or the workspace original). */
  findCopy(jobId: string, collection: 'workspace' | 'library', index: number): Promise<HistoryRow | undefined>;
  /**
   * Page `page` (from 1) of a user's live assets, newest first; ties broken by asset order so
   * pages never overlap. `type` undefined means images and videos together (the web gallery),
   * `filter` narrows to a collection and to prompts containing some text. `total` counts every
   * matching asset.
   */
  historyPage(userId: string, type: 'image' | 'video' | undefined, page: number, perPage: number, filter?: HistoryFilter): Promise<{
    rows: HistoryRow[];
    total: number;
  }>;
  /** The live asset `id` if `userId` owns it; undefined otherwise, so another user's asset reads as missing. */
  findForUser(id: string, userId: string): Promise<HistoryRow | undefined>;
  /** Starts a deletion: hides the row. False if it was already marked (or is gone). */
  markDeleting(id: string, now: number): Promise<boolean>;
  /** Marks every expired or too-old workspace item in one statement; returns how many. */
  markExpired(cutoff: ExpiryCutoff, now: number): Promise<number>;
  /** The workspace items {@link markExpired} would mark (dry runs). */
  listExpired(cutoff: ExpiryCutoff): Promise<AssetRow[]>;
  /** Rows whose deletion began and has not finished (marked by a sweep, or by a delete that crashed). */
  listDeleting(): Promise<AssetRow[]>;
  /** Removes the row for good (its bytes must be gone first); its evaluations go with it. */
  delete(id: string): Promise<void>;
}

/**
 * The job's prompt contains `text`, ignoring case: both sides lowered (SQLite's lower() folds
 * ASCII letters only, PostgreSQL's every letter), LIKE's wildcards and escape character in
 * `text` escaped so they match themselves.
 */
function promptContains(text: string) {
  const escaped = text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<boolean>`lower(${sql.ref('jobs.prompt')}) like ${`%${escaped}%`} escape ${'\\'}`;
}

/** The AssetsRepo on Kysely (SQLite or PostgreSQL). */
export function createAssetsRepo(db: Kysely<Database>): AssetsRepo {
  const live = () => db.selectFrom('assets').where('assets.deleting_at', 'is', null);
  const withJob = () => live().innerJoin('jobs', 'jobs.id', 'assets.job_id').selectAll('assets').select(['jobs.prompt', 'jobs.model']);
  // One definition for marking and for dry runs, so a dry run lists exactly what a sweep takes.
  // Library items are never swept, whatever their dates.
  const sweepable = (cutoff: ExpiryCutoff) => (eb: ExpressionBuilder<Database, 'assets'>) =>
    eb.and([
      eb('deleting_at', 'is', null),
      eb('collection', '=', 'workspace'),
      eb.or([eb('expires_at', '<=', cutoff.now), eb('created_at', '<=', cutoff.createdBefore)]),
    ]);

  return {
    listForJob(jobId: string): Promise<AssetRow[]> {
      return live().selectAll().where('job_id', '=', jobId).orderBy('asset_index').execute();
    },

    async listForJobs(jobIds: readonly string[]): Promise<AssetRow[]> {
      if (jobIds.length === 0) return [];
      return live().selectAll().where('job_id', 'in', jobIds).orderBy('job_id').orderBy('asset_index').execute();
    },

    async insert(row: NewAssetRow): Promise<void> {
      await db.insertInto('assets').values(row).execute();
    },

    findCopy(jobId: string, collection: 'workspace' | 'library', index: number): Promise<HistoryRow | undefined> {
      return withJob().where('assets.job_id', '=', jobId).where('assets.collection', '=', collection).where('assets.asset_index', '=', index).executeTakeFirst();
    },

    async historyPage(
      userId: string,
      type: 'image' | 'video' | undefined,
      page: number,
      perPage: number,
      filter: HistoryFilter = {},
    ): Promise<{ rows: HistoryRow[]; total: number }> {
      const { collection, prompt } = filter;
      const rows = await withJob()
        .where('assets.user_id', '=', userId)
        .$if(type !== undefined, (q) => q.where('assets.type', '=', type!))
        .$if(collection !== undefined, (q) => q.where('assets.collection', '=', collection!))
        .$if(!!prompt, (q) => q.where(promptContains(prompt!)))
        .orderBy('assets.created_at', 'desc')
        .orderBy('assets.job_id', 'desc')
        .orderBy('assets.asset_index', 'asc')
        .limit(perPage)
        .offset((page - 1) * perPage)
        .execute();
      const count = await live()
        .$if(!!prompt, (q) => q.innerJoin('jobs', 'jobs.id', 'assets.job_id').where(promptContains(prompt!)))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('assets.user_id', '=', userId)
        .$if(type !== undefined, (q) => q.where('assets.type', '=', type!))
        .$if(collection !== undefined, (q) => q.where('assets.collection', '=', collection!))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(count.n) };
    },

    findForUser(id: string, userId: string): Promise<HistoryRow | undefined> {
      return withJob().where('assets.id', '=', id).where('assets.user_id', '=', userId).executeTakeFirst();
    },

    async markDeleting(id: string, now: number): Promise<boolean> {
      const result = await db.updateTable('assets').set({ deleting_at: now }).where('id', '=', id).where('deleting_at', 'is', null).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markExpired(cutoff: ExpiryCutoff, now: number): Promise<number> {
      const result = await db.updateTable('assets').set({ deleting_at: now }).where(sweepable(cutoff)).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    listExpired(cutoff: ExpiryCutoff): Promise<AssetRow[]> {
      return db.selectFrom('assets').selectAll().where(sweepable(cutoff)).orderBy('created_at').execute();
    },

    listDeleting(): Promise<AssetRow[]> {
      return db.selectFrom('assets').selectAll().where('deleting_at', 'is not', null).orderBy('deleting_at').execute();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('assets').where('id', '=', id).execute();
    },
  };
}

