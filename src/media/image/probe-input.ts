import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AtelierError } from '../../errors/atelier-error.js';

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
}

export const DEFAULT_INPUT_IMAGE_LIMITS: InputImageLimits = Object.freeze({ maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 });

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
/** Decoding to this size still reads every byte of the file, but never holds it at full size. */
const DECODE_CHECK_EDGE = 64;

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
 * checks run cheapest first, and nothing is decoded before the pixel count is known to be
 * within the limit, so a decompression bomb costs a header read:
 * 1. size ≤ `maxBytes` (`image_too_large`, 413);
 * 2. PNG, JPEG or WEBP by magic bytes (`invalid_image`, 422);
 * 3. width × height from the header ≤ `maxPixels` (`image_too_many_pixels`, 422);
 * 4. a full decode with libvips' `failOn: 'error'`, so truncated or corrupt files are refused
 *    here rather than failing a job later (`invalid_image`, 422).
 *
 * @param limits omitted limits take {@link DEFAULT_INPUT_IMAGE_LIMITS}; `field` names the request
 *   field on errors (e.g. `reference_image`).
 * @throws AtelierError with code `image_too_large`, `invalid_image` or `image_too_many_pixels`.
 * @example const info = await probeInputImage(upload, { field: 'reference_image' }) // {format:'png', width: 1024, …}
 */
export async function probeInputImage(
  bytes: Buffer,
  limits: Partial<InputImageLimits> & { readonly field?: string } = {},
): Promise<InputImageInfo> {
  const { maxBytes, maxPixels } = { ...DEFAULT_INPUT_IMAGE_LIMITS, ...limits };
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
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new AtelierError('image_too_many_pixels', `Expected an image of at most ${maxPixels} pixels but received ${width}x${height} (${pixels} pixels)`, opts);
  }

  try {
    // libvips streams the decode through the shrink, so memory stays small even at the limit.
    await sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels })
      .resize(DECODE_CHECK_EDGE, DECODE_CHECK_EDGE, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (error) {
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
