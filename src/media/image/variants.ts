import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { fitInside, type Size } from './fit-inside.js';
import { isOutOfMemory, MediaError, type MediaErrorClass } from './media-error.js';
import type { DeliveryPreset } from './presets.js';
import { THUMBNAIL_MAX_EDGE, THUMBNAIL_WEBP_QUALITY, type Thumbnail } from './thumbnail.js';

/** One encoded delivery variant. */
export interface RenderedVariant {
  readonly name: 'normal' | 'high';
  readonly format: 'jpeg' | 'webp';
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly data: Buffer;
}

/** Seed 004's processing metrics, snake_case as they are logged and stored. */
export interface DerivativeMetrics {
  readonly processing_ms: number;
  readonly original_bytes: number;
  /** Encoded size per variant name (`normal`, `high`). */
  readonly variant_bytes: Record<string, number>;
  /** `original_bytes` divided by the variants' total bytes: above 1 means the variants are smaller. */
  readonly compression_ratio: number;
}

export interface Derivatives {
  /** The source's size as its header states it (before EXIF orientation). */
  readonly source: Size;
  readonly thumbnail: Thumbnail;
  readonly variants: readonly RenderedVariant[];
  readonly metrics: DerivativeMetrics;
}

export interface RenderOptions {
  /** Refuse sources with more pixels than this (decompression bombs). Default 64 MP (8192²). */
  readonly maxInputPixels?: number;
}

const DEFAULT_MAX_INPUT_PIXELS = 8192 * 8192;
/** What seed 003 accepts. Anything else (SVG, TIFF, HEIF, PDF…) is refused before decoding. */
const ACCEPTED_FORMATS = new Set(['png', 'jpeg', 'webp']);

/**
 * Makes the thumbnail (256 px WEBP q85) and the preset's `normal` and `high` variants from ONE
 * decode of `source` (a Buffer or a file path).
 *
 * The source is decoded once, straight to the size of the largest output, into raw pixels; each
 * output is then resized from those pixels and encoded, in parallel. (sharp's `clone()` would
 * not do: a clone copies the input descriptor and decodes the Buffer or file again.) Because
 * the first resize happens in the decoding pipeline, libvips shrinks on load where the format
 * allows: JPEG decodes at 1/2, 1/4 or 1/8 scale from its DCT coefficients and WebP scales while
 * decoding. PNG cannot — its rows are deflate-compressed and filtered against the previous
 * row, so every pixel must be inflated at full size first.
 *
 * Errors are {@link MediaError}s: an unreadable, unsupported or oversized source is `source`,
 * a failed resize or encode `processing`, a failed allocation `memory`.
 *
 * @example const { thumbnail, variants, metrics } = await renderDerivatives(png, DEFAULT_PRESETS[0]!)
 */
export async function renderDerivatives(source: Buffer | string, preset: DeliveryPreset, options: RenderOptions = {}): Promise<Derivatives> {
  const started = performance.now();
  const limitInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;

  const original = await stage('source', 'The source image cannot be read', () => probe(source, limitInputPixels));
  const targets = {
    thumbnail: fitInside(original, { width: THUMBNAIL_MAX_EDGE, height: THUMBNAIL_MAX_EDGE }),
    normal: fitInside(original, preset.normal),
    high: fitInside(original, preset.high),
  };
  const decodeSize = [targets.thumbnail, targets.normal, targets.high].reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));

  const pixels = await stage('source', 'The source image cannot be decoded', async () => {
    let pipeline = sharp(source, { limitInputPixels, sequentialRead: true }).autoOrient();
    if (!sameSize(decodeSize, original)) pipeline = pipeline.resize(decodeSize.width, decodeSize.height, { fit: 'fill' });
    // sRGB so every output sees 3 or 4 bands, whatever the source's colour model.
    return pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  });

  // Each pipeline reads the shared raw pixels; no pipeline below decodes the source again.
  const fromPixels = (target: Size) => {
    const { width, height, channels } = pixels.info;
    const image = sharp(pixels.data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
    return sameSize(target, pixels.info) ? image : image.resize(target.width, target.height, { fit: 'fill' });
  };
  const [thumbnail, normal, high] = await stage('processing', 'Encoding the derivatives failed', () =>
    Promise.all([
      fromPixels(targets.thumbnail).webp({ quality: THUMBNAIL_WEBP_QUALITY }).toBuffer({ resolveWithObject: true }),
      // JPEG has no alpha: flatten onto white rather than let transparent areas turn black.
      fromPixels(targets.normal).flatten({ background: '#ffffff' }).jpeg({ quality: preset.normal.quality }).toBuffer({ resolveWithObject: true }),
      fromPixels(targets.high).webp({ quality: preset.high.quality }).toBuffer({ resolveWithObject: true }),
    ]),
  );

  const variants: RenderedVariant[] = [
    { name: 'normal', format: 'jpeg', width: normal.info.width, height: normal.info.height, bytes: normal.data.length, data: normal.data },
    { name: 'high', format: 'webp', width: high.info.width, height: high.info.height, bytes: high.data.length, data: high.data },
  ];
  const variantTotal = normal.data.length + high.data.length;
  return {
    source: original.header,
    thumbnail: { data: thumbnail.data, width: thumbnail.info.width, height: thumbnail.info.height },
    variants,
    metrics: {
      processing_ms: performance.now() - started,
      original_bytes: original.bytes,
      variant_bytes: { normal: normal.data.length, high: high.data.length },
      compression_ratio: original.bytes / variantTotal,
    },
  };
}

/** Reads the header only (no pixels): size after EXIF orientation, format, byte count. */
async function probe(source: Buffer | string, limitInputPixels: number): Promise<Size & { bytes: number; header: Size }> {
  const meta = await sharp(source, { limitInputPixels }).metadata();
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new MediaError('source', `Expected a PNG, JPEG or WebP image but received ${meta.format ?? 'an unknown format'}`);
  }
  const { width, height } = meta.autoOrient;
  if (!(width > 0 && height > 0)) throw new MediaError('source', 'The source image has no size');
  if (width * height > limitInputPixels) {
    throw new MediaError('source', `Expected at most ${limitInputPixels} pixels but the source has ${width}×${height}`);
  }
  const bytes = typeof source === 'string' ? (await stat(source)).size : source.length;
  return { width, height, bytes, header: { width: meta.width, height: meta.height } };
}

/** Runs one step, turning any failure into a {@link MediaError} of the step's class. */
async function stage<T>(errorClass: MediaErrorClass, what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof MediaError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new MediaError(isOutOfMemory(error) ? 'memory' : errorClass, `${what}: ${detail}`, { cause: error });
  }
}

function sameSize(a: Size, b: Size): boolean {
  return a.width === b.width && a.height === b.height;
}
