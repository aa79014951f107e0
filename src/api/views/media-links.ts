import type { Storage } from '../../storage/storage.js';

/** Signs storage keys into absolute, expiring URLs for one response. */
export interface MediaLinks {
  readonly expiresAt: Date;
  link(key: string): Promise<string>;
  /** The signed original and thumbnail of an asset row. */
  linkAsset(asset: { storage_key: string; thumbnail_key: string | null }): Promise<{ url: string; thumbnailUrl: string | null }>;
}

export function createMediaLinks(storage: Storage, origin: string, ttlSeconds: number, now = Date.now()): MediaLinks {
  async function link(key: string): Promise<string> {
    const url = await storage.signedUrl(key, { expiresInSeconds: ttlSeconds });
    // Disk storage signs relative URLs (served by this server); S3 signs absolute ones.
    return new URL(url, origin).toString();
  }
  return {
    expiresAt: new Date(now + ttlSeconds * 1000),
    link,
    async linkAsset(asset) {
      return { url: await link(asset.storage_key), thumbnailUrl: asset.thumbnail_key ? await link(asset.thumbnail_key) : null };
    },
  };
}
