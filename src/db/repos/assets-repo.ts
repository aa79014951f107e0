import type { Kysely } from 'kysely';
import type { AssetRow, Database, NewAssetRow } from '../schema.js';

export interface HistoryRow extends AssetRow {
  readonly prompt: string;
  readonly model: string;
}

/** Asset records (rows only; the bytes live in Storage). */
export function createAssetsRepo(db: Kysely<Database>) {
  const withJob = () =>
    db.selectFrom('assets').innerJoin('jobs', 'jobs.id', 'assets.job_id').selectAll('assets').select(['jobs.prompt', 'jobs.model']);

  return {
    listForJob(jobId: string): Promise<AssetRow[]> {
      return db.selectFrom('assets').selectAll().where('job_id', '=', jobId).orderBy('asset_index').execute();
    },

    async insert(row: NewAssetRow): Promise<void> {
      await db.insertInto('assets').values(row).execute();
    },

    findCopy(jobId: string, collection: 'workspace' | 'library', index: number): Promise<HistoryRow | undefined> {
      return withJob().where('assets.job_id', '=', jobId).where('assets.collection', '=', collection).where('assets.asset_index', '=', index).executeTakeFirst();
    },

    /** Newest first; ties broken by asset order so pages never overlap. */
    async historyPage(
      userId: string,
      type: 'image' | 'video',
      page: number,
      perPage: number,
      collection?: 'workspace' | 'library',
    ): Promise<{ rows: HistoryRow[]; total: number }> {
      const rows = await withJob()
        .where('assets.user_id', '=', userId)
        .where('assets.type', '=', type)
        .$if(collection !== undefined, (q) => q.where('assets.collection', '=', collection!))
        .orderBy('assets.created_at', 'desc')
        .orderBy('assets.job_id', 'desc')
        .orderBy('assets.asset_index', 'asc')
        .limit(perPage)
        .offset((page - 1) * perPage)
        .execute();
      const count = await db
        .selectFrom('assets')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('type', '=', type)
        .$if(collection !== undefined, (q) => q.where('collection', '=', collection!))
        .executeTakeFirstOrThrow();
      return { rows, total: Number(count.n) };
    },

    findForUser(id: string, userId: string): Promise<HistoryRow | undefined> {
      return withJob().where('assets.id', '=', id).where('assets.user_id', '=', userId).executeTakeFirst();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('assets').where('id', '=', id).execute();
    },
  };
}

export type AssetsRepo = ReturnType<typeof createAssetsRepo>;
