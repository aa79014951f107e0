import { UnrecoverableError } from '../../errors/signals.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { centerCropTo } from '../../media/image/center-crop.js';
import { decodeLatentToRgb, encodeRgbPng, encodeRgbToLatent } from './latent-decode.js';
import { denoiseFromImage } from './latent-img2img.js';
import { stampPreviewMark } from './preview-mark.js';
import { latentSize, promptTarget } from './prompt-target.js';
import type { Latent } from './target-field.js';

/** A1111's default denoising strength, used when a spec reaches the backend without one. */
export const DEFAULT_DENOISE_STRENGTH = 0.75;

/** The reference, center-cropped to the output size and "VAE-encoded"; shared by a batch. */
export interface PreparedReference {
  /** Raw 8-bit RGB at the output size. */
  readonly rgb: Buffer;
  readonly latent: Latent;
}

/**
 * Center-crops the reference to the output size (resize policy `center_crop`) and encodes it
 * into the latent space.
 *
 * @throws UnrecoverableError (`invalid_image`) when the bytes do not decode: retrying cannot help.
 */
export async function prepareReference(bytes: Buffer, width: number, height: number): Promise<PreparedReference> {
  let rgb: Buffer;
  try {
    rgb = await centerCropTo(bytes, width, height);
  } catch (error) {
    throw new UnrecoverableError(`The reference image could not be decoded: ${(error as Error).message}`, 'invalid_image', { cause: error });
  }
  const latent = latentSize(width, height);
  return { rgb, latent: await encodeRgbToLatent(rgb, width, height, latent.width, latent.height) };
}

/**
 * Renders one image-to-image output as a PNG. The latent is sampled from the noised reference
 * toward the prompt (see `denoiseFromImage`); because the latent is 1/4 size, the decode then
 * restores the reference's full-resolution detail in proportion to what denoising keeps:
 * `output = reference · (1 − d) + decoded · d` with d = denoise strength. So denoise 0 returns
 * the center-cropped reference exactly (but for the PREVIEW mark every output carries) and
 * denoise 1 the prompt's picture (with the faint trace of the reference that SD's img2img
 * also keeps at strength 1).
 */
export async function renderImg2Img(
  spec: JobSpec,
  seed: number,
  reference: PreparedReference,
  signal: AbortSignal,
  onStep: () => void,
  condition: (target: Latent) => Latent = (target) => target,
  onLatent?: (current: Latent) => void,
): Promise<Buffer> {
  const denoiseStrength = Math.min(1, Math.max(0, spec.denoiseStrength ?? DEFAULT_DENOISE_STRENGTH));
  const target = condition(promptTarget(spec, seed));
  const latent = await denoiseFromImage(reference.latent, target, {
    steps: spec.steps,
    sampler: spec.sampler,
    cfgScale: spec.cfgScale,
    seed,
    signal,
    onStep,
    onLatent,
    denoiseStrength,
  });
  const decoded = await decodeLatentToRgb(latent, spec.width, spec.height);
  const out = Buffer.allocUnsafe(decoded.length);
  const ref = reference.rgb;
  // One pass over the full-resolution pixels (about 10 ms for 1024²); libvips' blend modes
  // would quantise the weight to 8 bits, and d = 0 must give the reference byte for byte.
  for (let i = 0; i < out.length; i += 1) out[i] = Math.round(ref[i]! + (decoded[i]! - ref[i]!) * denoiseStrength);
  return encodeRgbPng(stampPreviewMark(out, spec.width, spec.height), spec.width, spec.height);
}
