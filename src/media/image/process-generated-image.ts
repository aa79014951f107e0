import type { GeneratedImage } from '../../backends/backend.js';
import { RetryableError } from '../../errors/signals.js';
import { MediaError } from './media-error.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { settingsProvenance, type SettingsProvenance } from '../settings-provenance.js';
import { formatA1111Parameters, hasNegativePrompt } from './a1111-parameters.js';
import { withoutPngMetadata, withPngTextChunk } from './png-text-chunk.js';
import type { DeliveryPreset } from './presets.js';
import { inspectImage } from '../safety/scan-output.js';
import type { SafetyRecord } from '../safety/safety-policy.js';
import type { SafetyScan } from '../safety/safety-scanner.js';
import { renderDerivatives, type DerivativeMetrics, type RenderedVariant } from './variants.js';

/** An image asset's metadata as stored and served (SPEC §4), hence snake_case; `loras` and `backend_settings` when the job has them. */
export interface ImageAssetMetadata extends SettingsProvenance {
  readonly width: number;
  readonly height: number;
  readonly format: 'png';
  readonly steps: number;
  readonly guidance_scale: number;
  readonly seed: number;
  /** Size of the stored PNG, parameters chunk included. */
  readonly file_size_bytes: number;
  readonly asset_index: number;
  readonly negative_prompt_used: boolean;
  readonly sampler: string;
  readonly model: string;
  /** Image-to-image only (seed 000). */
  readonly denoise_strength?: number;
  readonly pipeline?: 'img2img';
  readonly resize_policy?: 'center_crop';
  /** Guided generation (seed 002): how many guidance images, and the ControlNet units. */
  readonly guidance_images?: number;
  readonly controlnet?: readonly { readonly type: string; readonly weight: number; readonly start: number; readonly end: number }[];
  /** Seed 004's processing figures: time, bytes per variant, compression ratio. */
  readonly processing: DerivativeMetrics;
  /** The safety scan's scores and verdict (README "Output safety"), unless the policy is `off`. */
  readonly safety?: SafetyRecord;
}

/** Everything storage needs for one generated image. */
export interface ProcessedImage {
  /** The PNG with A1111 `parameters` text, so "PNG info" tools can read how it was made. */
  readonly original: Buffer;
  /** WEBP, at most 256 px on the longest edge. */
  readonly thumbnail: Buffer;
  readonly thumbnailWidth: number;
  readonly thumbnailHeight: number;
  /** The preset's delivery variants: `normal`, `high` and its `extra` ones, each in its configured format. */
  readonly variants: readonly RenderedVariant[];
  readonly metadata: ImageAssetMetadata;
}

export interface ProcessOptions {
  readonly modelLabel?: string;
  /** The delivery preset whose variants to render. */
  readonly preset: DeliveryPreset;
  /** Wraps the decode-and-encode work, e.g. to record media metrics. */
  readonly measure?: <T>(work: () => Promise<T>) => Promise<T>;
  /** The safety scan of this model's outputs; none when the policy is `off`. A refused output throws `output_refused`. */
  readonly safety?: SafetyScan;
}

/** The PNG text keyword A1111 uses, and therefore the one every "PNG info" reader looks for. */
const PARAMETERS_KEYWORD = 'parameters';

/** The output without the metadata its backend wrote, so the file carries exactly Atelier's record. */
function ownRecordOnly(png: Buffer): Buffer {
  try {
    return withoutPngMetadata(png);
  } catch (cause) {
    // A cut or damaged transfer: another attempt may well produce a good image.
    throw new RetryableError(`The backend's output is not a readable PNG: ${(cause as Error).message}`, 'backend_failed', { cause });
  }
}

/**
 * Post-processes one backend output: embeds the A1111 parameters text, makes the thumbnail
 * and the preset's delivery variants from one decode, and derives the asset metadata. Width
 * and height are read from the PNG header, so the metadata describes the stored file even if
 * a backend misreports its size.
 *
 * @example const processed = await processGeneratedImage(image, spec, { preset: DEFAULT_PRESETS[2]! })
 */
export async function processGeneratedImage(image: GeneratedImage, spec: JobSpec, opts: ProcessOptions): Promise<ProcessedImage> {
  const img2img = spec.mode === 'i2i' && spec.denoiseStrength !== undefined;
  const extras: Record<string, string | number> = {
    // A1111 records img2img strength under this name; PNG-info readers show it.
    ...(img2img ? { 'Denoising strength': spec.denoiseStrength! } : {}),
    ...(opts.modelLabel === undefined ? {} : { 'Model label': opts.modelLabel }),
    // The ControlNet extension's infotext: one "ControlNet i" entry per unit.
    ...Object.fromEntries(
      (spec.controlnet ?? []).map((u, i) => [`ControlNet ${i}`, `Module: ${u.type}, Weight: ${u.weight}, Guidance Start: ${u.start}, Guidance End: ${u.end}`]),
    ),
    ...(spec.guidanceImages?.length ? { 'Guidance images': spec.guidanceImages.length } : {}),
  };
  const original = withPngTextChunk(ownRecordOnly(image.data), PARAMETERS_KEYWORD, formatA1111Parameters(spec, image.seed, extras));
  const measure = opts.measure ?? ((work) => work());
  // One header read: renderDerivatives reads it before decoding and reports the size it states.
  // The safety model sees the pixels of the same decode the derivatives come from.
  const safetyCheck = opts.safety && inspectImage(opts.safety, image.index);
  const derivatives = await measure(() => renderDerivatives(image.data, opts.preset, safetyCheck ? { inspect: safetyCheck.inspect } : {})).catch((error: unknown) => {
    // Output that does not decode is the backend's failure (a glitch, a cut transfer), not a
    // bad request: another attempt may well produce a good image.
    if (error instanceof MediaError && error.errorClass === 'source') throw new RetryableError(`The backend's output is not a readable image: ${error.message}`, 'backend_failed');
    throw error;
  });
  const safety = await safetyCheck?.record();
  const { thumbnail } = derivatives;
  const { width, height } = derivatives.source;
  return {
    original,
    thumbnail: thumbnail.data,
    thumbnailWidth: thumbnail.width,
    thumbnailHeight: thumbnail.height,
    variants: derivatives.variants,
    metadata: {
      width: width ?? image.width,
      height: height ?? image.height,
      format: 'png',
      steps: spec.steps,
      guidance_scale: spec.cfgScale,
      seed: image.seed,
      file_size_bytes: original.length,
      asset_index: image.index,
      negative_prompt_used: hasNegativePrompt(spec),
      sampler: spec.sampler,
      model: spec.model,
      ...(img2img ? { denoise_strength: spec.denoiseStrength!, pipeline: 'img2img' as const, resize_policy: 'center_crop' as const } : {}),
      ...(spec.guidanceImages?.length ? { guidance_images: spec.guidanceImages.length } : {}),
      ...(spec.controlnet?.length ? { controlnet: spec.controlnet.map(({ type, weight, start, end }) => ({ type, weight, start, end })) } : {}),
      ...settingsProvenance(spec),
      processing: { ...derivatives.metrics, original_bytes: original.length },
      ...(safety ? { safety } : {}),
    },
  };
}
