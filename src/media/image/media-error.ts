import { AtelierError } from '../../errors/atelier-error.js';

/**
 * Why media processing failed (seed 004's error classes), for alerting and for the runner:
 * - `source`: the input is not a usable image (corrupt, truncated, unsupported, too many pixels).
 *   Retrying cannot help.
 * - `processing`: decoding worked but resizing or encoding failed — a bug or a libvips limit.
 * - `storage`: reading or writing the bytes failed (disk, S3). Usually transient.
 * - `memory`: an allocation failed. Transient under load; retry later.
 */
export type MediaErrorClass = 'source' | 'processing' | 'storage' | 'memory';

/** A media failure with its class; the original error is kept as `cause`. */
export class MediaError extends Error {
  readonly errorClass: MediaErrorClass;

  constructor(errorClass: MediaErrorClass, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MediaError';
    this.errorClass = errorClass;
  }
}

// Errno codes of the filesystem, and what the AWS SDK reports for network trouble.
const STORAGE_CODES = new Set(['EACCES', 'EPERM', 'ENOSPC', 'EIO', 'EROFS', 'EDQUOT', 'EMFILE', 'ENFILE', 'ECONNRESET', 'ETIMEDOUT']);

/**
 * The class of any error thrown while processing media. Errors that are not {@link MediaError}s
 * are classified by kind (allocation failures, storage errno codes, `storage_failed`); anything
 * unrecognised is `processing`.
 *
 * @example metrics.results.inc({ result: 'failure', error_class: classifyMediaError(error) })
 */
export function classifyMediaError(error: unknown): MediaErrorClass {
  if (error instanceof MediaError) return error.errorClass;
  if (isOutOfMemory(error)) return 'memory';
  if (error instanceof AtelierError && error.code === 'storage_failed') return 'storage';
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && STORAGE_CODES.has(code)) return 'storage';
  return 'processing';
}

/** V8 and libvips report allocation failures in several shapes. */
export function isOutOfMemory(error: unknown): boolean {
  if (error instanceof RangeError && /allocation failed|invalid array length|buffer/i.test(error.message)) return true;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ENOMEM' || code === 'ERR_MEMORY_ALLOCATION_FAILED') return true;
  return typeof message === 'string' && /out of memory|cannot allocate|memory allocation/i.test(message);
}
