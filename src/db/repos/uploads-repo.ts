import type { Kysely } from 'kysely';
import type { Database, UploadRow } from '../schema.js';

/** Upload records; the bytes live in Storage under `uploads/{userId}/{id}.{ext}`. */
export function createUploadsRepo(db: Kysely<Database>) {
  return {
    async insert(row: UploadRow): Promise<void> {
      await db.insertInto('uploads').values(row).execute();
    },

    findById(id: string): Promise<UploadRow | undefined> {
      return db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Marks a pending upload ready; false if it was already used (presigned URLs are single-use). */
    async complete(id: string, storageKey: string, metadata: object, now: number): Promise<boolean> {
      const result = await db
        .updateTable('uploads')
        .set({ status: 'ready', storage_key: storageKey, metadata: JSON.stringify(metadata), completed_at: now })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type UploadsRepo = ReturnType<typeof createUploadsRepo>;
