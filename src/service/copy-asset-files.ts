import type { AssetRow, StoredVariant } from '../db/schema.js';
import type { Storage } from '../storage/storage.js';
import { settleWrites } from '../storage/settle-writes.js';

/**
 * Copies an asset's original, thumbnail and variants to the keys `move` maps them to, and
 * returns the copy's key columns. Used by library saves and prompt-cache hits: bytes are
 * always copied before the row that references them is written.
 */
export async function copyAssetFiles(
  storage: Storage,
  asset: Pick<AssetRow, 'storage_key' | 'thumbnail_key' | 'variants'>,
  move: (key: string) => string,
  /** Each destination key is added before it is written, for the caller's clean-up on failure. */
  written: string[] = [],
): Promise<Pick<AssetRow, 'storage_key' | 'thumbnail_key' | 'variants'>> {
  const variants = JSON.parse(asset.variants) as StoredVariant[];
  const copy = async (from: string) => {
    written.push(move(from));
    await storage.copy(from, move(from));
  };
  // Side by side: on disk they share the directory's fsync.
  await settleWrites([copy(asset.storage_key), ...(asset.thumbnail_key ? [copy(asset.thumbnail_key)] : []), ...variants.map((variant) => copy(variant.key))]);
  return {
    storage_key: move(asset.storage_key),
    thumbnail_key: asset.thumbnail_key ? move(asset.thumbnail_key) : null,
    variants: JSON.stringify(variants.map((v) => ({ ...v, key: move(v.key) }))),
  };
}
