import { encodeRgbToLatent, decodeLatentToRgb, toRgb8 } from './latent-decode.js';
import { denoise, type DenoiseOptions } from './latent-render.js';
import { denoiseFromImage } from './latent-img2img.js';
import { latentSize } from './prompt-target.js';
import type { Latent } from './target-field.js';

/** The second pass's denoising strength: A1111's default for hires fix. */
export const HIRES_DENOISE = 0.7;

/** Half the side, on the grid of 8, never under 64 (nor over the side): A1111's first pass for "upscale by 2". */
export function firstPassSide(side: number): number {
  return Math.min(side, Math.max(64, Math.floor(side / 2 / 8) * 8));
}

/**
 * Hires fix, as AUTOMATIC1111 runs it for "upscale by 2" with the output at `width`×`height`:
 *
 * 1. the first pass samples the whole schedule at half the size — the (already conditioned)
 *    target field, downscaled to that size's latent;
 * 2. its result is decoded and upscaled to the output size (the cubic "upscaler") and encoded
 *    back into a full-size latent;
 * 3. the second pass refines it at full size: image-to-image toward the full-size target at
 *    denoise {@link HIRES_DENOISE}, which keeps the first pass's layout and takes the detail of
 *    the full-size field.
 *
 * Both passes report their steps (`onStep` runs 2 × steps times) and stop on `signal`.
 *
 * @example const latent = await hiresFix(target, 1024, 768, { steps: 20, sampler: 'Euler', cfgScale: 7, seed, signal, onStep })
 */
export async function hiresFix(target: Latent, width: number, height: number, opts: DenoiseOptions): Promise<Latent> {
  const base = latentSize(firstPassSide(width), firstPassSide(height));
  const small = await encodeRgbToLatent(toRgb8(target), target.width, target.height, base.width, base.height);
  const first = await denoise(small, opts);
  const upscaled = await decodeLatentToRgb(first, width, height);
  const init = await encodeRgbToLatent(upscaled, width, height, target.width, target.height);
  return denoiseFromImage(init, target, { ...opts, denoiseStrength: HIRES_DENOISE });
}
