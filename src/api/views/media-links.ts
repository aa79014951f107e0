import type { Storage } from '../../storage/storage.js';

/** Signs storage keys into absolute, expiring URLs for one response. */
export interface MediaLinks {
  readonly expiresAt: Date;
  link(key: string): Promise<string>;
}

export function createMediaLinks(storage: Storage, origin: string, ttlSeconds: number, now = Date.now()): MediaLinks {
  return {
    expiresAt: new Date(now + ttlSeconds * 1000),
    async link(key) {
      const url = await storage.signedUrl(key, { expiresInSeconds: ttlSeconds });
      // Disk storage signs relative URLs (served by this server); S3 signs absolute ones.
      return new URL(url, origin).toString();
    },
  };
}
