import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the bytes of `<name>.partial` came from, kept beside it as `<name>.partial.json`: a
 * later run resumes only from the same URL, and sends the validator as If-Range so a file
 * that changed on the server comes back whole (200) instead of as a spliced range.
 */
export interface PartialMeta {
  readonly url: string;
  readonly etag?: string;
  readonly lastModified?: string;
  /** The full size, when the server said. */
  readonly total?: number;
}

/** The three names of one download in its folder. */
export interface DownloadPaths {
  readonly dir: string;
  /** Appears only once the bytes are complete and verified. */
  readonly final: string;
  readonly partial: string;
  readonly meta: string;
}

export function downloadPaths(dir: string, name: string): DownloadPaths {
  const final = join(dir, name);
  return { dir, final, partial: `${final}.partial`, meta: `${final}.partial.json` };
}

/**
 * The validator to send as If-Range, or undefined when the partial cannot be resumed safely.
 * If-Range compares strongly, so a weak ETag (`W/"…"`) is no use; Last-Modified is.
 */
export function ifRangeValidator(meta: PartialMeta | undefined): string | undefined {
  if (meta?.etag !== undefined && !meta.etag.startsWith('W/')) return meta.etag;
  return meta?.lastModified;
}

/**
 * Where a download of `url` can pick up: the partial file's size and metadata when both are
 * there, were made from the same URL and carry a validator; otherwise offset 0 (the next write
 * starts the partial over).
 */
export async function readResumePoint(paths: DownloadPaths, url: string): Promise<{ offset: number; meta: PartialMeta | undefined }> {
  const size = await stat(paths.partial).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) return { offset: 0, meta: undefined };
  const meta = await readFile(paths.meta, 'utf8').then(
    (text) => parseMeta(text),
    () => undefined,
  );
  if (meta === undefined || meta.url !== url || ifRangeValidator(meta) === undefined) return { offset: 0, meta: undefined };
  if (meta.total !== undefined && size > meta.total) return { offset: 0, meta: undefined };
  return { offset: size, meta };
}

/** Replaces the metadata atomically: a crash leaves the old or the new, never half of one. */
export async function writeMeta(paths: DownloadPaths, meta: PartialMeta): Promise<void> {
  const temporary = `${paths.meta}.tmp`;
  await writeFile(temporary, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(temporary, paths.meta);
}

/** Deletes the partial file and its metadata. */
export async function discardPartial(paths: DownloadPaths): Promise<void> {
  await Promise.all([rm(paths.partial, { force: true }), rm(paths.meta, { force: true }), rm(`${paths.meta}.tmp`, { force: true })]);
}

/** A SHA-256 over the first `length` bytes of `file`, to continue hashing where it resumes. */
export async function hashPrefix(file: string, length: number, signal?: AbortSignal): Promise<Hash> {
  const hash = createHash('sha256');
  if (length === 0) return hash;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1, signal, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

function parseMeta(text: string): PartialMeta | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value.url !== 'string') return undefined;
    return {
      url: value.url,
      ...(typeof value.etag === 'string' ? { etag: value.etag } : {}),
      ...(typeof value.lastModified === 'string' ? { lastModified: value.lastModified } : {}),
      ...(typeof value.total === 'number' ? { total: value.total } : {}),
    };
  } catch {
    return undefined;
  }
}
