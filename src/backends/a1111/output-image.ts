/**
 * Turning an upstream's encoded image into what the Backend port promises (a PNG and its
 * real size). Shared by the a1111 and openai adapters.
 */
import sharp from 'sharp';
import { UnrecoverableError } from '../../errors/signals.js';
import { centerCropTo } from '../../media/image/center-crop.js';
import { sniffImageFormat } from '../../media/image/probe-input.js';
import type { PreviewImage } from '../backend.js';

export interface PngImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

const MIME = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

/** Base64, with or without a `data:image/…;base64,` prefix (A1111 accepts and may send both). */
export function decodeBase64Image(text: string): Buffer {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? text.slice(comma + 1) : text, 'base64');
}

/** A live preview from encoded bytes, or undefined when they are no PNG, JPEG or WEBP. */
export function toPreview(bytes: Buffer): PreviewImage | undefined {
  const format = sniffImageFormat(bytes);
  return format === undefined ? undefined : { data: bytes, mime: MIME[format] };
}

/**
 * The image as a PNG with its size read from the file. PNGs pass through untouched (so an
 * upstream's own `parameters` text survives); JPEG and WEBP — A1111 with `samples_format`
 * set to jpg, an OpenAI-compatible server with another `output_format` — are re-encoded.
 *
 * @throws Error when the bytes are no image; callers turn that into their own signal error.
 */
export async function toPng(bytes: Buffer): Promise<PngImage> {
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new Error(`expected a PNG, JPEG or WEBP image but received ${bytes.length} bytes of something else`);
  const data = format === 'png' ? bytes : await sharp(bytes, { failOn: 'error' }).png().toBuffer();
  const { width, height } = await sharp(data).metadata();
  if (!width || !height) throw new Error('the image has no readable size');
  return { data, width, height };
}

/**
 * Resize policy `center_crop` (SPEC §3) into a PNG of exactly width×height. Used for
 * references before upload (every backend then sees the same crop) and for upstream outputs
 * that came back at another size than the job asked for.
 *
 * @throws Error (from sharp) when the bytes do not decode.
 */
export async function cropToPng(bytes: Buffer, width: number, height: number): Promise<PngImage> {
  const rgb = await centerCropTo(bytes, width, height);
  const data = await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { data, width, height };
}

/**
 * The job's reference (`ctx.inputs.reference`) center-cropped to width×height as a PNG.
 *
 * @throws UnrecoverableError (`invalid_parameter` when missing, `invalid_image` when it does not decode).
 */
export async function referenceToPng(reference: Buffer | undefined, width: number, height: number): Promise<PngImage> {
  if (reference === undefined) throw new UnrecoverableError('Image-to-image needs a reference image but the job has none', 'invalid_parameter');
  try {
    return await cropToPng(reference, width, height);
  } catch (cause) {
    throw new UnrecoverableError(`The reference image could not be decoded: ${(cause as Error).message}`, 'invalid_image', { cause });
  }
}
