import { randomUUID } from 'node:crypto';
import type { AssetsRepo, HistoryRow } from '../db/repos/assets-repo.js';
import { AtelierError } from '../errors/atelier-error.js';
import { storageKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';
import { copyAssetFiles } from './copy-asset-files.js';

/**
 * Saving a workspace item to the library (seed 000): the original and thumbnail are copied
 * to `user-library/…` keys and recorded as a library item that never expires. Saving twice
 * returns the same item.
 */
export function createLibraryService(assets: AssetsRepo, storage: Storage, clock: () => number = Date.now) {
  return {
    async save(userId: string, assetId: string): Promise<HistoryRow> {
      const source = await assets.findForUser(assetId, userId);
      if (!source) throw new AtelierError('not_found', `No item with id '${assetId}'`, { field: 'id' });
      if (source.collection === 'library') return source;
      const existing = await assets.findCopy(source.job_id, 'library', source.asset_index);
      if (existing) return existing;

      // Bytes first, then the row: a crash in between leaves unreferenced copies, never a
      // library item pointing at nothing.
      const files = await copyAssetFiles(storage, source, storageKeys.toLibrary);
      try {
        await assets.insert({
          id: randomUUID(),
          job_id: source.job_id,
          user_id: userId,
          asset_index: source.asset_index,
          type: source.type,
          content_type: source.content_type,
          collection: 'library',
          metadata: source.metadata,
          created_at: clock(),
          ...files,
          expires_at: null,
        });
      } catch (error) {
        // A concurrent save won the unique (job, collection, index) slot; it copied the same keys.
        const winner = await assets.findCopy(source.job_id, 'library', source.asset_index);
        if (winner) return winner;
        throw error;
      }
      return (await assets.findCopy(source.job_id, 'library', source.asset_index))!;
    },
  };
}

export type LibraryService = ReturnType<typeof createLibraryService>;
