import type { Storage } from '../storage/storage.js';
import { safeFetch, type SafeFetchOptions } from '../net/safe-fetch.js';

/** Where a media input comes from (seed 004): bytes in hand, a stored object, or a URL. */
export type MediaSource = { readonly buffer: Buffer } | { readonly key: string } | { readonly url: string };

export interface MediaSourceDeps {
  readonly storage: Storage;
  /** Limits for URL sources; URLs are fetched only through the SSRF-safe fetcher. */
  readonly fetch: Omit<SafeFetchOptions, 'field'>;
}

/**
 * Reads a media source into memory (inputs are images, capped by `fetch.maxBytes`). A URL
 * is refused if it resolves — at any redirect — to a private, loopback, link-local or
 * metadata address.
 */
export async function loadMediaSource(source: MediaSource, deps: MediaSourceDeps, field?: string): Promise<Buffer> {
  if ('buffer' in source) return source.buffer;
  if ('url' in source) return (await safeFetch(source.url, { ...deps.fetch, ...(field ? { field } : {}) })).bytes;
  const chunks: Buffer[] = [];
  for await (const chunk of await deps.storage.get(source.key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
