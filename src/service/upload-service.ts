import { storageKeys } from '../storage/keys.js';
import { randomUUID } from 'node:crypto';
import type { AssetsRepo } from '../db/repos/assets-repo.js';
import type { UploadsRepo } from '../db/repos/uploads-repo.js';
import type { UploadRow, UserRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { ImageRef } from '../jobs/generation-request.js';
import type { InputImage } from '../jobs/job-spec.js';
import { probeInputImage, type InputImageInfo } from '../media/image/probe-input.js';
import type { Storage } from '../storage/storage.js';
import type { UrlSigner } from '../storage/url-signer.js';
import { loadMediaSource } from '../media/media-source.js';
import type { SafeFetchOptions } from '../net/safe-fetch.js';

export interface UploadLimits {
  readonly maxBytes: number;
  readonly maxPixels: number;
  /** Longest side, from the header (default 16 384). */
  readonly maxEdge?: number;
  /** How long the decode check of an image may take (default 5 s). */
  readonly decodeTimeoutSeconds?: number;
  readonly urlTtlSeconds: number;
}

export interface UploadServiceDeps {
  readonly uploads: UploadsRepo;
  readonly assets: AssetsRepo;
  readonly storage: Storage;
  /** How URL sources are fetched (timeout; tests may allow one loopback destination). */
  readonly urlFetch?: Pick<SafeFetchOptions, 'timeoutMs' | 'unsafeAllowDestinations'>;
  readonly signer: UrlSigner;
  readonly limits: UploadLimits;
  readonly clock?: () => number;
}

/** What the signed PUT URL of an upload signs: not a storage key, so it can't fetch media. */
const signedName = (uploadId: string) => `upload:${uploadId}`;

/**
 * Uploads of reference and start/end images. Bytes are validated (magic bytes, size, pixel
 * limit, full decode) before anything is stored as usable; presigned URLs are single-use,
 * bound to their user's upload record, expiring and size-limited.
 */
export function createUploadService(deps: UploadServiceDeps) {
  const clock = deps.clock ?? Date.now;

  async function presign(user: UserRow, request: { filename: string; size_bytes: number }) {
    if (request.size_bytes > deps.limits.maxBytes) {
      throw new AtelierError('image_too_large', `Expected at most ${deps.limits.maxBytes} bytes for size_bytes but received ${request.size_bytes}`, { field: 'size_bytes' });
    }
    const now = clock();
    const row: UploadRow = {
      id: randomUUID(),
      user_id: user.id,
      status: 'pending',
      filename: request.filename,
      declared_size: request.size_bytes,
      storage_key: null,
      metadata: null,
      created_at: now,
      url_expires_at: now + deps.limits.urlTtlSeconds * 1000,
      completed_at: null,
    };
    await deps.uploads.insert(row);
    const { expires, signature } = deps.signer.sign(signedName(row.id), new Date(row.url_expires_at!));
    return { row, uploadPath: `/api/uploads/${row.id}/content?expires=${expires}&signature=${encodeURIComponent(signature)}` };
  }

  /** The body of a presigned PUT: checked against the signature, expiry and declared size. */
  async function receivePresigned(uploadId: string, query: { expires?: string; signature?: string }, bytes: Buffer): Promise<UploadRow> {
    if (!query.expires || !query.signature || !deps.signer.verify(signedName(uploadId), query.expires, query.signature)) {
      throw new AtelierError('signature_invalid', 'The upload URL is invalid or has expired');
    }
    const row = await deps.uploads.findById(uploadId);
    if (!row) throw new AtelierError('not_found', `No upload with id '${uploadId}'`);
    if (row.status !== 'pending') throw new AtelierError('upload_consumed', 'This upload URL was already used');
    if (row.declared_size !== null && bytes.length > row.declared_size) {
      throw new AtelierError('image_too_large', `Expected at most the declared ${row.declared_size} bytes but received ${bytes.length}`, { field: 'body' });
    }
    return store(row, bytes);
  }

  /** An image fetched from a URL (SSRF-safe), recorded like any other upload. */
  async function receiveFromUrl(user: UserRow, url: string, field = 'url'): Promise<UploadRow> {
    const bytes = await loadMediaSource({ url }, { storage: deps.storage, fetch: { maxBytes: deps.limits.maxBytes, timeoutMs: 15_000, ...deps.urlFetch } }, field);
    return receiveDirect(user, url.slice(0, 255), bytes);
  }

  /** A direct (multipart) upload: the record is created and completed in one go. */
  async function receiveDirect(user: UserRow, filename: string, bytes: Buffer): Promise<UploadRow> {
    const now = clock();
    // uploads.filename is varchar(255), and PostgreSQL refuses a NUL in any text: the multipart
    // file name is only informational, so it is kept without them rather than refused.
    const row: UploadRow = { id: randomUUID(), user_id: user.id, status: 'pending', filename: filename.replaceAll('\u0000', '').slice(0, 255), declared_size: null, storage_key: null, metadata: null, created_at: now, url_expires_at: null, completed_at: null };
    const info = await probe(bytes, user.id);
    await deps.uploads.insert(row);
    return store(row, bytes, info);
  }

  async function store(row: UploadRow, bytes: Buffer, known?: InputImageInfo): Promise<UploadRow> {
    const info = known ?? (await probe(bytes, row.user_id));
    // A key per attempt: two racing PUTs never overwrite each other's bytes; the loser's
    // file is removed when its completion is refused.
    const key = storageKeys.upload(row.user_id, row.id, randomUUID(), info.format === 'jpeg' ? 'jpg' : info.format);
    await deps.storage.put(key, bytes);
    if (!(await deps.uploads.complete(row.id, key, info, clock()))) {
      await deps.storage.delete(key);
      throw new AtelierError('upload_consumed', 'This upload URL was already used');
    }
    return (await deps.uploads.findById(row.id))!;
  }

  /** Decodes take turns by `owner` (a user id) in the process's pool of untrusted decodes. */
  function probe(bytes: Buffer, owner: string): Promise<InputImageInfo> {
    const { maxBytes, maxPixels, maxEdge, decodeTimeoutSeconds } = deps.limits;
    return probeInputImage(bytes, { maxBytes, maxPixels, maxEdge, decodeTimeoutSeconds, owner });
  }

  async function get(user: UserRow, uploadId: string): Promise<UploadRow> {
    const row = await deps.uploads.findById(uploadId);
    if (!row || row.user_id !== user.id) throw new AtelierError('not_found', `No upload with id '${uploadId}'`, { field: 'uploadId' });
    return row;
  }

  /**
   * Resolves a job's image reference — an upload or an asset of the same user — to the
   * stored bytes it names and their metadata. Someone else's id is a 404, like a missing one.
   */
  async function resolveImage(user: UserRow, ref: ImageRef, field: string): Promise<InputImage & { info: InputImageInfo }> {
    if ('url' in ref) return resolveImage(user, { upload_id: (await receiveFromUrl(user, ref.url, field)).id }, field);
    if ('upload_id' in ref) {
      const row = await deps.uploads.findById(ref.upload_id);
      if (!row || row.user_id !== user.id) throw new AtelierError('not_found', `No upload with id '${ref.upload_id}'`, { field });
      if (row.status !== 'ready' || !row.storage_key || !row.metadata) {
        throw new AtelierError('upload_not_ready', `Upload '${ref.upload_id}' has not received its bytes yet`, { field });
      }
      const info = JSON.parse(row.metadata) as InputImageInfo;
      return { key: row.storage_key, format: info.format, width: info.width, height: info.height, sha256: info.sha256, source: { uploadId: row.id }, info };
    }
    const asset = await deps.assets.findForUser(ref.asset_id, user.id);
    if (!asset || asset.type !== 'image') throw new AtelierError('not_found', `No image asset with id '${ref.asset_id}'`, { field });
    // Assets were made by Atelier, but they are still probed: metadata comes from the bytes.
    const bytes = await loadMediaSource({ key: asset.storage_key }, { storage: deps.storage, fetch: { maxBytes: deps.limits.maxBytes, timeoutMs: 15_000 } });
    const info = await probe(bytes, user.id);
    return { key: asset.storage_key, format: info.format, width: info.width, height: info.height, sha256: info.sha256, source: { assetId: asset.id }, info };
  }

  return { presign, receivePresigned, receiveDirect, receiveFromUrl, get, resolveImage };
}

export type UploadService = ReturnType<typeof createUploadService>;
