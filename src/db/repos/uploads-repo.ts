import type { Kysely } from 'kysely';
import type { Database, UploadRow } from '../schema.js';

/**
 * Upload records; the bytes live in Storage under `uploads/{userId}/{id}/…`. Rows with
 * `deleting_at` set are being deleted by retention and read as gone.
 */
export interface UploadsRepo {
  /** Records an upload, pending until {@link UploadsRepo.complete} stores its bytes' key. */
  insert(row: UploadRow): Promise<void>;
  /** The upload with this id, unless retention is deleting it. */
  findById(id: string): Promise<UploadRow | undefined>;
  /** Marks a pending upload ready; false if it was already used (presigned URLs are single-use). */
  complete(id: string, storageKey: string, metadata: object, now: number): Promise<boolean>;
  /** Marks every upload created at or before `createdBefore` for deletion; returns how many. */
  markOlderThan(createdBefore: number, now: number): Promise<number>;
  /** The uploads {@link markOlderThan} would mark (dry runs). */
  listOlderThan(createdBefore: number): Promise<UploadRow[]>;
  /** Uploads whose deletion began and has not finished. */
  listDeleting(): Promise<UploadRow[]>;
  /** Removes the row for good (its bytes must be gone first). */
  delete(id: string): Promise<void>;
}

/** The UploadsRepo on Kysely (SQLite or PostgreSQL). */
export function createUploadsRepo(db: Kysely<Database>): UploadsRepo {
  return {
    async insert(row: UploadRow): Promise<void> {
      await db.insertInto('uploads').values(row).execute();
    },

    findById(id: string): Promise<UploadRow | undefined> {
      return db.selectFrom('uploads').selectAll().where('id', '=', id).where('deleting_at', 'is', null).executeTakeFirst();
    },

    async complete(id: string, storageKey: string, metadata: object, now: number): Promise<boolean> {
      const result = await db
        .updateTable('uploads')
        .set({ status: 'ready', storage_key: storageKey, metadata: JSON.stringify(metadata), completed_at: now })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        // Once retention has marked the row it has read (or will read) storage_key; a key set
        // now would never be deleted. The caller removes its file when this refuses.
        .where('deleting_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markOlderThan(createdBefore: number, now: number): Promise<number> {
      const result = await db
        .updateTable('uploads')
        .set({ deleting_at: now })
        .where('deleting_at', 'is', null)
        .where('created_at', '<=', createdBefore)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    listOlderThan(createdBefore: number): Promise<UploadRow[]> {
      return db.selectFrom('uploads').selectAll().where('deleting_at', 'is', null).where('created_at', '<=', createdBefore).orderBy('created_at').execute();
    },

    listDeleting(): Promise<UploadRow[]> {
      return db.selectFrom('uploads').selectAll().where('deleting_at', 'is not', null).orderBy('deleting_at').execute();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('uploads').where('id', '=', id).execute();
    },
  };
}

