import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AtelierError } from '../../errors/atelier-error.js';
import { untrustedDecodes, type DecodePool } from './decode-pool.js';

/** The input formats Atelier accepts (seed 001): everything a diffusion pipeline can load. */
export type InputImageFormat = 'png' | 'jpeg' | 'webp';

/** Pillow's mode names, so metadata reads the same as the Python workers' (seed 001). */
export type PillowMode = '1' | 'L' | 'LA' | 'I;16' | 'P' | 'RGB' | 'RGBA' | 'CMYK';

/** What seed 001 records about an input image; snake_case because it is stored and served as is. */
export interface InputImageInfo {
  readonly format: InputImageFormat;
  /** As displayed, i.e. after the EXIF orientation is applied (what center-cropping sees). */
  readonly width: number;
  readonly height: number;
  readonly mode: PillowMode;
  readonly has_alpha: boolean;
  /** width / height, rounded to 4 decimals. */
  readonly aspect_ratio: number;
  readonly pixel_count: number;
  readonly file_size_bytes: number;
  /** Hex sha256 of the bytes, so caches and dedup can key on content. */
  readonly sha256: string;
}

export interface InputImageLimits {
  /** Largest accepted file, in bytes. */
  readonly maxBytes: number;
  /** Most pixels (width × height) accepted; checked from the header, before decoding. */
  readonly maxPixels: number;
  /**
   * Longest side accepted; checked from the header, before decoding. libvips pays per row, so
   * a 1×20 000 000 PNG (39 KB, half the pixel limit) took 15 s of CPU to decode.
   */
  readonly maxEdge: number;
  /** The decode that checks the pixels is stopped, and the image refused, after this long. */
  readonly decodeTimeoutSeconds: number;
}

export const DEFAULT_INPUT_IMAGE_LIMITS: InputImageLimits = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxEdge: 16_384,
  decodeTimeoutSeconds: 5,
});

/** Where and for whom the decode runs: untrusted bytes share one bounded pool, fairly by owner. */
export interface ProbeOptions {
  /** Names the request field on errors (e.g. `reference_image`). */
  readonly field?: string;
  /** Whose image this is (a user id): the pool takes turns between owners. Default: one shared owner. */
  readonly owner?: string;
  /** Default: {@link untrustedDecodes}, shared by the whole process. */
  readonly pool?: DecodePool;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
/**
 * Decoding to this size still reads every byte of the file, but never holds it at full size
 * (at most 4 MB of output). libvips checks the timeout only as strips of output rows are done:
 * at 64 rows a slow decode ran to its end before the check; at 1024 it is stopped part-way.
 */
const DECODE_CHECK_EDGE = 1024;

/** The format named by the file's first bytes; extensions and content types are never trusted. */
export function sniffImageFormat(bytes: Buffer): InputImageFormat | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_MAGIC)) return 'png';
  if (bytes.length >= 3 && bytes.subarray(0, 3).equals(JPEG_MAGIC)) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** Names what the bytes look like, for an error message that helps the caller fix the upload. */
function describeContent(bytes: Buffer): string {
  if (bytes.length === 0) return 'an empty file';
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 256)).trimStart().toLowerCase();
  if (head.startsWith('gif8')) return 'a GIF';
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'an SVG';
  if (head.startsWith('<')) return 'XML or HTML text';
  return 'data of another format';
}

/**
 * Pillow's mode. For PNG it is read from IHDR's bit depth and colour type exactly as Pillow
 * does; for JPEG and WEBP it follows from the channel count and colour space.
 */
function pillowMode(bytes: Buffer, format: InputImageFormat, meta: sharp.Metadata): PillowMode {
  if (format === 'png') {
    const bitDepth = bytes[24];
    switch (bytes[25]) {
      case 0:
        return bitDepth === 1 ? '1' : bitDepth === 16 ? 'I;16' : 'L';
      case 3:
        return 'P';
      case 4:
        return 'LA';
      case 6:
        return 'RGBA';
      default:
        return 'RGB';
    }
  }
  if (meta.space === 'cmyk') return 'CMYK';
  if (meta.channels === 1 || meta.space === 'b-w') return meta.hasAlpha ? 'LA' : 'L';
  return meta.hasAlpha ? 'RGBA' : 'RGB';
}

/** The reason sharp gave, without libvips' stack of repeated lines. */
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();

/**
 * Validates an input image (reference, start or end frame) and describes it (seed 001). The
 * checks run cheapest first, and nothing is decoded before the shape is known to be within
 * the limits, so a decompression bomb or an absurd shape costs a header read:
 * 1. size ≤ `maxBytes` (`image_too_large`, 413);
 * 2. PNG, JPEG or WEBP by magic bytes (`invalid_image`, 422);
 * 3. from the header: each side ≤ `maxEdge` and width × height ≤ `maxPixels`
 *    (`image_too_many_pixels`, 422);
 * 4. a full decode with libvips' `failOn: 'error'`, so truncated or corrupt files are refused
 *    here rather than failing a job later (`invalid_image`, 422). It runs in the bounded
 *    {@link DecodePool} and is stopped after `decodeTimeoutSeconds` (`invalid_image`).
 *
 * @param limits omitted limits take {@link DEFAULT_INPUT_IMAGE_LIMITS}; see {@link ProbeOptions}
 *   for `field`, `owner` and `pool`.
 * @throws AtelierError with code `image_too_large`, `invalid_image` or `image_too_many_pixels`.
 * @example const info = await probeInputImage(upload, { field: 'reference_image', owner: user.id }) // {format:'png', width: 1024, …}
 */
export async function probeInputImage(bytes: Buffer, limits: Partial<InputImageLimits> & ProbeOptions = {}): Promise<InputImageInfo> {
  const { maxBytes, maxPixels, maxEdge, decodeTimeoutSeconds } = { ...DEFAULT_INPUT_IMAGE_LIMITS, ...withoutUndefined(limits) };
  const opts = limits.field === undefined ? {} : { field: limits.field };
  if (bytes.length > maxBytes) {
    throw new AtelierError('image_too_large', `Expected an image of at most ${maxBytes} bytes but received ${bytes.length} bytes`, opts);
  }
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw new AtelierError('invalid_image', `Expected a PNG, JPEG or WEBP image but received ${describeContent(bytes)}`, opts);
  }

  let meta: sharp.Metadata;
  try {
    // Headers only, so no limit is needed (sharp's default would refuse big headers as 'corrupt').
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new AtelierError('invalid_image', `The ${format.toUpperCase()} image is corrupt: ${firstLine(error)}`, { ...opts, cause: error });
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!(width > 0 && height > 0)) throw new AtelierError('invalid_image', `The ${format.toUpperCase()} image has no dimensions`, opts);
  if (width > maxEdge || height > maxEdge) {
    throw new AtelierError('image_too_many_pixels', `Expected an image of at most ${maxEdge} pixels per side but received ${width}x${height}`, opts);
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new AtelierError('image_too_many_pixels', `Expected an image of at most ${maxPixels} pixels but received ${width}x${height} (${pixels} pixels)`, opts);
  }

  const pool = limits.pool ?? untrustedDecodes;
  try {
    // libvips streams the decode through the shrink, so memory stays small even at the limit.
    await pool.run(limits.owner ?? '', () =>
      sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels })
        .resize(DECODE_CHECK_EDGE, DECODE_CHECK_EDGE, { fit: 'inside' })
        .timeout({ seconds: decodeTimeoutSeconds })
        .raw()
        .toBuffer(),
    );
  } catch (error) {
    if (/timeout/i.test(firstLine(error))) {
      throw new AtelierError('invalid_image', `The ${format.toUpperCase()} image took longer than ${decodeTimeoutSeconds} s to decode`, { ...opts, cause: error });
    }
    throw new AtelierError('invalid_image', `The ${format.toUpperCase()} image is corrupt or truncated: ${firstLine(error)}`, { ...opts, cause: error });
  }

  return {
    format,
    width,
    height,
    mode: pillowMode(bytes, format, meta),
    has_alpha: meta.hasAlpha,
    aspect_ratio: Math.round((width / height) * 10_000) / 10_000,
    pixel_count: pixels,
    file_size_bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Limits passed as `undefined` keep their defaults (spreading them would erase the default). */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
