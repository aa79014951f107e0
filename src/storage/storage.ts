import type { Readable } from 'node:stream';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  readonly modifiedAt: Date;
}

export interface PutOptions {
  /** Defaults to the type implied by the key's extension. */
  readonly contentType?: string;
}

/** Inclusive byte offsets of a part of an object, as HTTP's Range and Content-Range count them. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface GetOptions {
  /** Only these bytes (within the object: see `parseRange` in src/api/byte-range.ts). */
  readonly range?: ByteRange;
}

export interface SignedUrlOptions {
  readonly expiresInSeconds: number;
  /** Suggested download file name (Content-Disposition). */
  readonly downloadName?: string;
}

/**
 * Where media bytes live. Keys, never paths: `workspace-temp/{userId}/{jobId}/0.png`.
 * Writes are atomic — a reader (or a crash) never sees a partial object under its final key.
 *
 * @example await storage.put('workspace-temp/u1/j1/0.png', pngBuffer)
 */
export interface Storage {
  put(key: string, body: Buffer | Readable, options?: PutOptions): Promise<ObjectInfo>;
  /** Streams the object, or a range of it; throws `AtelierError('not_found')` when it does not exist. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  copy(fromKey: string, toKey: string): Promise<ObjectInfo>;
  /**
   * Every object whose key starts with `prefix` (a folder, ending in `/`, or '' for all), in
   * pages as the backend lists them; the order is unspecified. For sweeps, not request paths.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** A URL anyone holding it can GET until it expires. May be relative to the server origin. */
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
}
