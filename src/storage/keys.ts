/**
 * The storage layout of seed 000. Every key that names a job's media is built here, so the
 * layout is defined once.
 */
/** The top-level prefixes media lives under, by owner kind (retention lists them). */
export const WORKSPACE = 'workspace-temp';
export const LIBRARY = 'user-library';
export const JOB_INPUTS = 'job-inputs';
export const WORKER_UPLOADS = 'worker-uploads';
export const UPLOADS = 'uploads';

export const storageKeys = {
  workspaceOriginal: (userId: string, jobId: string, index: number, ext: 'png' | 'mp4' = 'png') => `${storageKeys.workspaceJobPrefix(userId, jobId)}${index}.${ext}`,
  workspaceThumbnail: (userId: string, jobId: string, index: number) => `${storageKeys.workspaceJobPrefix(userId, jobId)}${index}.thumb.webp`,
  libraryOriginal: (userId: string, jobId: string, index: number, ext: 'png' | 'mp4' = 'png') => `${LIBRARY}/${userId}/${jobId}/${index}.${ext}`,
  libraryThumbnail: (userId: string, jobId: string, index: number) => `${LIBRARY}/${userId}/${jobId}/${index}.thumb.webp`,
  /** A delivery variant next to its original: `{index}.{preset}.{normal|high|extra name}.{jpg|webp|avif}`. */
  variant: (originalKey: string, preset: string, name: string, format: 'jpeg' | 'webp' | 'avif') =>
    originalKey.replace(/\.[a-z0-9]+$/, `.${preset}.${name}.${format === 'jpeg' ? 'jpg' : format}`),
  /** The same relative path moved from the workspace to the library. */
  toLibrary: (workspaceKey: string) => (workspaceKey.startsWith(`${WORKSPACE}/`) ? `${LIBRARY}/${workspaceKey.slice(WORKSPACE.length + 1)}` : workspaceKey),
  /** A job's own copy of an input image, held from submission to completion (seed 001). */
  jobInput: (userId: string, jobId: string, role: 'reference' | 'start' | 'end' | `guidance-${number}` | `controlnet-${number}`, ext: string) =>
    `${storageKeys.jobInputsPrefix(userId, jobId)}${role}.${ext}`,
  /**
   * A remote worker's upload, waiting for its completion callback. Per attempt, so a stale
   * attempt's upload can never be mistaken for the current one's.
   */
  workerUpload: (jobId: string, attempt: number, index: number, ext: 'png' | 'mp4') => `${storageKeys.workerUploadPrefix(jobId, attempt)}${index}.${ext}`,
  /** The folder of one attempt's worker uploads. */
  workerUploadPrefix: (jobId: string, attempt: number) => `${WORKER_UPLOADS}/${jobId}/${attempt}/`,
  /** An upload's bytes: `uploads/{userId}/{uploadId}/{random}.{ext}`. */
  upload: (userId: string, uploadId: string, name: string, ext: string) => `${UPLOADS}/${userId}/${uploadId}/${name}.${ext}`,
  /** The folder of one job's workspace files (originals, thumbnails, variants). */
  workspaceJobPrefix: (userId: string, jobId: string) => `${WORKSPACE}/${userId}/${jobId}/`,
  /** The folder of one job's held input copies. */
  jobInputsPrefix: (userId: string, jobId: string) => `${JOB_INPUTS}/${userId}/${jobId}/`,
};

/** Who a key belongs to, read back from the layout above; undefined for keys outside it. */
export type KeyOwner =
  | { readonly kind: 'workspace' | 'library' | 'job-input'; readonly userId: string; readonly jobId: string }
  | { readonly kind: 'worker-upload'; readonly jobId: string }
  | { readonly kind: 'upload'; readonly userId: string; readonly uploadId: string };

/** @example ownerOfKey('workspace-temp/u1/j1/0.png') // { kind: 'workspace', userId: 'u1', jobId: 'j1' } */
export function ownerOfKey(key: string): KeyOwner | undefined {
  const [top, a, b, ...rest] = key.split('/');
  if (a === undefined || b === undefined || rest.length === 0) return undefined;
  switch (top) {
    case WORKSPACE:
      return { kind: 'workspace', userId: a, jobId: b };
    case LIBRARY:
      return { kind: 'library', userId: a, jobId: b };
    case JOB_INPUTS:
      return { kind: 'job-input', userId: a, jobId: b };
    case WORKER_UPLOADS:
      return { kind: 'worker-upload', jobId: a };
    case UPLOADS:
      return { kind: 'upload', userId: a, uploadId: b };
    default:
      return undefined;
  }
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** True for keys made of safe segments: no `..`, no absolute paths, no empty segments. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > 1024) return false;
  return key.split('/').every((segment) => SAFE_SEGMENT.test(segment) && !segment.includes('..'));
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  mp4: 'video/mp4',
  json: 'application/json',
};

export function contentTypeForKey(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/** Every storage key an asset row owns: original, thumbnail and delivery variants. */
export function assetKeys(row: { storage_key: string; thumbnail_key?: string | null; variants?: string | undefined }): string[] {
  const variants = JSON.parse(row.variants ?? '[]') as { key: string }[];
  return [row.storage_key, ...(row.thumbnail_key ? [row.thumbnail_key] : []), ...variants.map((v) => v.key)];
}
