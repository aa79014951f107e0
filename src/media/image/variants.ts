import { stat } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { coverSource, fitCover, fitInside, type Size } from './fit-inside.js';
import { isOutOfMemory, MediaError, type MediaErrorClass } from './media-error.js';
import { configureSharp, releaseImageMemory } from './release-memory.js';
import type { CoverPosition, DeliveryPreset, VariantFormat, VariantSpec } from './presets.js';
import { THUMBNAIL_MAX_EDGE, THUMBNAIL_WEBP_QUALITY, type Thumbnail } from './thumbnail.js';
import { watermarkLayer } from './watermark.js';

/** One encoded delivery variant. */
export interface RenderedVariant {
  /** `normal`, `high` or the name of one of the preset's `extra` variants. */
  readonly name: string;
  readonly format: VariantFormat;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly data: Buffer;
}

/** Seed 004's processing metrics, snake_case as they are logged and stored. */
export interface DerivativeMetrics {
  readonly processing_ms: number;
  readonly original_bytes: number;
  /** Encoded size per variant name (`normal`, `high`, extra names). */
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
  /**
   * Looks at the picture before anything is encoded (the safety scan): `run` gets the decoded
   * pixels resized to `size`² RGB, and when it answers `blur` the thumbnail and every variant
   * are blurred beyond recognition. Its errors propagate as they are.
   */
  readonly inspect?: { readonly size: number; readonly run: (pixels: RgbPixels) => Promise<{ readonly blur: boolean }> };
}

/** Raw 3-channel sRGB pixels, row-major. */
export interface RgbPixels {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

const DEFAULT_MAX_INPUT_PIXELS = 8192 * 8192;
/** Longest edge of the picture a blurred output is enlarged from: shapes and colours, no detail. */
const BLUR_EDGE = 24;
// Whoever renders derivatives wants these libvips settings (see configureSharp).
configureSharp();
/** What seed 003 accepts. Anything else (SVG, TIFF, HEIF, PDF…) is refused before decoding. */
const ACCEPTED_FORMATS = new Set(['png', 'jpeg', 'webp']);

/** One delivery variant to make: its spec, its output size, and how to get there. */
export interface VariantTarget {
  readonly name: string;
  readonly spec: VariantSpec;
  readonly size: Size;
  /** Set for `fit: 'cover'`: fill `size` exactly, cropping what overflows, keeping this part. */
  readonly cover?: CoverPosition;
}

/**
 * The variants `preset` makes of a `source`-sized image, in order: `normal`, `high`, then its
 * extra variants. Sizes are final: fitted inside (never enlarged) or cropped to cover.
 *
 * @example deliveryTargets({ width: 1024, height: 512 }, preset).map((t) => t.size)
 */
export function deliveryTargets(source: Size, preset: DeliveryPreset): VariantTarget[] {
  const inside = (name: string, spec: VariantSpec): VariantTarget => ({ name, spec, size: fitInside(source, spec) });
  return [
    inside('normal', preset.normal),
    inside('high', preset.high),
    ...(preset.extra ?? []).map((extra) =>
      extra.fit === 'cover' ? { name: extra.name, spec: extra, size: fitCover(source, extra), cover: extra.position ?? 'attention' } : inside(extra.name, extra),
    ),
  ];
}

/**
 * Makes the thumbnail (256 px WEBP q85) and the preset's variants — `normal`, `high` and any
 * `extra` ones, each in its format (JPEG, WebP, AVIF), watermarked when the preset says so —
 * from ONE decode of `source` (a Buffer or a file path). The thumbnail is never watermarked.
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
  try {
    return await render(source, preset, options);
  } finally {
    // Here, not inside render(): only once its frame is gone are the decoded pixels unreachable.
    releaseImageMemory();
  }
}

async function render(source: Buffer | string, preset: DeliveryPreset, options: RenderOptions): Promise<Derivatives> {
  const started = performance.now();
  const limitInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;

  const original = await stage('source', 'The source image cannot be read', () => probe(source, limitInputPixels));
  const thumbnailSize = fitInside(original, { width: THUMBNAIL_MAX_EDGE, height: THUMBNAIL_MAX_EDGE });
  const targets = deliveryTargets(original, preset);
  // Decode once, at the size the most demanding output needs: a fitted variant's own size, or
  // for a crop the source's shape just large enough to cover it. All share the source's aspect.
  const needs = [thumbnailSize, ...targets.map((t) => (t.cover === undefined ? t.size : coverSource(original, t.size)))];
  const decodeSize = needs.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));

  const pixels = await stage('source', 'The source image cannot be decoded', async () => {
    let pipeline = sharp(source, { limitInputPixels, sequentialRead: true }).autoOrient();
    if (!sameSize(decodeSize, original)) pipeline = pipeline.resize(decodeSize.width, decodeSize.height, { fit: 'fill' });
    // sRGB so every output sees 3 or 4 bands, whatever the source's colour model.
    return pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  });

  const raw = (from: typeof pixels) => sharp(from.data, { raw: { width: from.info.width, height: from.info.height, channels: from.info.channels as 1 | 2 | 3 | 4 } });
  let blurred: typeof pixels | undefined;
  if (options.inspect) {
    const { size, run } = options.inspect;
    const small = await stage('processing', 'Resizing for inspection failed', () => raw(pixels).resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true }));
    if ((await run({ data: small.data, width: small.info.width, height: small.info.height })).blur) {
      // A 24 px picture, softened and then enlarged to each output: blurred alike at every
      // size, for the cost of a tiny resize (a Gaussian of the same reach at 2048² takes seconds).
      const side = fitInside(pixels.info, { width: BLUR_EDGE, height: BLUR_EDGE });
      blurred = await stage('processing', 'Blurring failed', () => raw(pixels).resize(side.width, side.height, { fit: 'fill' }).blur(1).raw().toBuffer({ resolveWithObject: true }));
    }
  }

  // Each pipeline reads the shared raw pixels; no pipeline below decodes the source again.
  const fromPixels = (target: Size, cover?: CoverPosition) => {
    const base = blurred ?? pixels;
    const image = raw(base);
    if (cover !== undefined) return image.resize(target.width, target.height, { fit: 'cover', position: blurred ? 'centre' : cover });
    return sameSize(target, base.info) ? image : image.resize(target.width, target.height, { fit: 'fill', ...(blurred ? { kernel: 'cubic' as const } : {}) });
  };
  const hasAlpha = pixels.info.channels === 2 || pixels.info.channels === 4;
  const variant = async (target: VariantTarget): Promise<RenderedVariant> => {
    let image = fromPixels(target.size, target.cover);
    // After the resize, in the variant's own pipeline: only delivered copies carry the mark.
    if (preset.watermark) {
      image = image.composite([await watermarkLayer(preset.watermark, target.size)]);
      // Compositing adds an alpha band; drop it again where the picture had none (or JPEG,
      // already flattened), rather than encode an opaque alpha plane.
      if (!hasAlpha || target.spec.format === 'jpeg') image = image.removeAlpha();
    }
    const { data, info } = await encode(image, target.spec).toBuffer({ resolveWithObject: true });
    return { name: target.name, format: target.spec.format, width: info.width, height: info.height, bytes: data.length, data };
  };
  const [thumbnail, ...variants] = await stage('processing', 'Encoding the derivatives failed', () =>
    Promise.all([fromPixels(thumbnailSize).webp({ quality: THUMBNAIL_WEBP_QUALITY }).toBuffer({ resolveWithObject: true }), ...targets.map(variant)]),
  );

  const variantTotal = variants.reduce((sum, v) => sum + v.bytes, 0);
  return {
    source: original.header,
    thumbnail: { data: thumbnail.data, width: thumbnail.info.width, height: thumbnail.info.height },
    variants,
    metrics: {
      processing_ms: performance.now() - started,
      original_bytes: original.bytes,
      variant_bytes: Object.fromEntries(variants.map((v) => [v.name, v.bytes])),
      compression_ratio: original.bytes / variantTotal,
    },
  };
}

/** The encoder of a variant spec. */
function encode(image: Sharp, spec: VariantSpec): Sharp {
  switch (spec.format) {
    case 'jpeg':
      // JPEG has no alpha: flatten onto white rather than let transparent areas turn black.
      // Progressive by default: a slow connection shows the whole picture early, then sharpens.
      return image.flatten({ background: '#ffffff' }).jpeg({ quality: spec.quality, progressive: spec.progressive ?? true });
    case 'webp':
      return image.webp({ quality: spec.quality, ...(spec.effort === undefined ? {} : { effort: spec.effort }) });
    case 'avif':
      return image.avif({ quality: spec.quality, ...(spec.effort === undefined ? {} : { effort: spec.effort }) });
  }
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
