import type { AssetRow, StoredVariant } from '../db/schema.js';
import type { Storage } from '../storage/storage.js';

/**
 * Copies an asset's original, thumbnail and variants to the keys `move` maps them to, and
 * returns the copy's key columns. Used by library saves and prompt-cache hits: bytes are
 * always copied before the row that references them is written.
 */
export async function copyAssetFiles(
  storage: Storage,
  asset: Pick<AssetRow, 'storage_key' | 'thumbnail_key' | 'variants'>,
  move: (key: string) => string,
): Promise<Pick<AssetRow, 'storage_key' | 'thumbnail_key' | 'variants'>> {
  const variants = JSON.parse(asset.variants) as StoredVariant[];
  await storage.copy(asset.storage_key, move(asset.storage_key));
  if (asset.thumbnail_key) await storage.copy(asset.thumbnail_key, move(asset.thumbnail_key));
  for (const variant of variants) await storage.copy(variant.key, move(variant.key));
  return {
    storage_key: move(asset.storage_key),
    thumbnail_key: asset.thumbnail_key ? move(asset.thumbnail_key) : null,
    variants: JSON.stringify(variants.map((v) => ({ ...v, key: move(v.key) }))),
  };
}
