import type { AssetsRepo } from '../db/repos/assets-repo.js';
import { assetKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';

/** The columns deletion needs: the id and every key the row owns. */
export type DeletableAsset = { readonly id: string } & Parameters<typeof assetKeys>[0];

/**
 * Deletes an asset — original, thumbnail, variants and row — in the one crash-safe order:
 * mark the row (hidden from then on), delete the files, delete the row. A crash at any point
 * leaves either a complete visible asset or a hidden row that {@link finishAssetDeletion}
 * (run by every retention sweep) completes; never a visible row pointing at a missing file.
 * Every deletion of an asset goes through here. Returns the keys it deleted.
 *
 * @example await deleteAssetCompletely(assets, storage, row) // DELETE /api/images/:id
 */
export async function deleteAssetCompletely(assets: AssetsRepo, storage: Storage, row: DeletableAsset, now = Date.now()): Promise<string[]> {
  // Already marked is fine: a concurrent delete or a sweep started it, and both steps below
  // are idempotent.
  await assets.markDeleting(row.id, now);
  return finishAssetDeletion(assets, storage, row);
}

/**
 * The second half of {@link deleteAssetCompletely}, for a row already marked: files, then the
 * row. Safe to repeat (Storage.delete ignores missing keys); if it throws, the row stays
 * marked for the next attempt.
 */
export async function finishAssetDeletion(assets: AssetsRepo, storage: Storage, row: DeletableAsset): Promise<string[]> {
  const keys = assetKeys(row);
  for (const key of keys) await storage.delete(key);
  await assets.delete(row.id);
  return keys;
}
