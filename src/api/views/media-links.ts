import { contentTypeForKey } from '../../storage/keys.js';
import type { Storage } from '../../storage/storage.js';

/** Signs storage keys into absolute, expiring URLs for one response. */
export interface MediaLinks {
  readonly expiresAt: Date;
  link(key: string): Promise<string>;
  /** The signed original (see {@link deliveredKey}) and thumbnail of an asset row. */
  linkAsset(asset: LinkableAsset): Promise<{ url: string; thumbnailUrl: string | null }>;
}

/** What linking an asset reads of its row. */
export interface LinkableAsset {
  readonly storage_key: string;
  readonly thumbnail_key: string | null;
  /** The row's metadata JSON; `safety.blurred` keeps the original out of signed URLs. */
  readonly metadata?: string;
  /** The row's variants JSON (StoredVariant[]). */
  readonly variants?: string;
}

/**
 * The key a signed URL for an asset's picture may point at: its original, except for an output
 * the safety scan blurred (`metadata.safety.blurred`), whose original stays private to its owner
 * (`GET /api/images/{id}/file`, behind the owner's token) — a signed URL works for anyone who
 * holds it. Such an asset's URL is its largest delivered variant (blurred), else its thumbnail.
 *
 * @example deliveredKey(row) // 'workspace-temp/u/j/0.png', or its blurred 'high' variant's key
 */
export function deliveredKey(asset: LinkableAsset): string {
  if (!asset.metadata || !(JSON.parse(asset.metadata) as { safety?: { blurred?: boolean } }).safety?.blurred) return asset.storage_key;
  const variants = asset.variants ? (JSON.parse(asset.variants) as { name: string; key: string; width: number }[]) : [];
  const largest = [...variants].sort((a, b) => b.width - a.width)[0];
  return largest?.key ?? asset.thumbnail_key ?? asset.storage_key;
}

/**
 * The content type of what {@link deliveredKey} points at, so an asset's `contentType` says
 * what its `url` serves: the row's own for the original; for a blurred output's copy (a JPEG,
 * WebP or AVIF variant, or the WebP thumbnail) the type its key's extension gives, which is
 * also the type storage serves it with.
 *
 * @example deliveredContentType(row) // 'image/png', or 'image/webp' for a blurred output
 */
export function deliveredContentType(asset: LinkableAsset & { readonly content_type: string }): string {
  const key = deliveredKey(asset);
  return key === asset.storage_key ? asset.content_type : contentTypeForKey(key);
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
      return { url: await link(deliveredKey(asset)), thumbnailUrl: asset.thumbnail_key ? await link(asset.thumbnail_key) : null };
    },
  };
}
