import { CanceledError } from '../../errors/signals.js';
import { deriveSeed, gaussianSource, mulberry32 } from './prng.js';
import { guidedPrediction, SALT_ANCESTRAL_NOISE, SALT_INITIAL_NOISE, yieldToEventLoop, type DenoiseOptions } from './latent-render.js';
import { ancestralStep, samplerProfile, sigmaSchedule } from './schedule.js';
import type { Latent } from './target-field.js';

export interface Img2ImgDenoiseOptions extends DenoiseOptions {
  /** 0 keeps the init latent, 1 starts from (almost) pure noise. */
  readonly denoiseStrength: number;
}

/**
 * The spread of the denoiser's prior around the prompt's target, in latent units. At noise σ
 * the denoiser trusts the image's own content with weight s²/(s²+σ²) and the prompt with
 * σ²/(s²+σ²) — the Bayes-optimal x0 estimate under a Gaussian prior N(target, s²). 0.35 makes
 * denoise 0.4 keep about 80% of the reference and denoise 1 under 3%.
 */
const CONTENT_PRIOR_SIGMA = 0.35;

/** How many of `steps` an img2img run samples, as in A1111/diffusers: round(steps · denoise). */
export function img2imgSampledSteps(steps: number, denoiseStrength: number): number {
  return Math.round(steps * Math.min(1, Math.max(0, denoiseStrength)));
}

/**
 * Image-to-image sampling (SD img2img in k-diffusion form). The schedule is the full
 * `steps`-long one; the run starts at the σ where the last round(steps·denoise) steps begin,
 * from x = init + σ·ε — the VE form of SD's sqrt(ᾱ)·x0 + sqrt(1−ᾱ)·ε with ᾱ = 1/(1+σ²) — and
 * samples only those steps. The denoiser knows the noise it was given (as the text-to-image
 * one knows its target), so its x0 prediction is the current clean content pulled toward the
 * guided target by σ²/(s²+σ²): high noise follows the prompt, low noise keeps the image.
 *
 * `onStep` is still called `steps` times: once for every skipped step as soon as the init
 * latent is noised (that part of the schedule is "done" by the reference), then once per
 * sampled step, so progress always runs 1…steps.
 *
 * @throws CanceledError when `signal` aborts; it is checked after every step.
 */
export async function denoiseFromImage(init: Latent, target: Latent, opts: Img2ImgDenoiseOptions): Promise<Latent> {
  if (init.data.length !== target.data.length) throw new Error(`Expected init and target latents of equal size but received ${init.data.length} and ${target.data.length}`);
  if (opts.signal.aborted) throw new CanceledError();
  const x0 = guidedPrediction(target, opts.cfgScale);
  const profile = samplerProfile(opts.sampler);
  const sigmas = sigmaSchedule(opts.steps, profile.karras);
  const sampled = img2imgSampledSteps(opts.steps, opts.denoiseStrength);
  const first = opts.steps - sampled;
  for (let step = 0; step < first; step += 1) {
    opts.onStep();
    if (opts.signal.aborted) throw new CanceledError();
  }
  if (sampled === 0) return { width: init.width, height: init.height, data: Float32Array.from(init.data) };

  const sigmaStart = sigmas[first]!;
  // `eps` is the unit noise currently in x, tracked exactly so the content is x − σ·eps.
  const eps = Float32Array.from({ length: init.data.length }, gaussianSource(mulberry32(deriveSeed(opts.seed, SALT_INITIAL_NOISE))));
  const fresh = Float32Array.from(eps);
  const shifts = mulberry32(deriveSeed(opts.seed, SALT_ANCESTRAL_NOISE));
  const x = init.data.map((value, i) => value + sigmaStart * eps[i]!);
  const prior2 = CONTENT_PRIOR_SIGMA ** 2;

  for (let step = first; step < opts.steps; step += 1) {
    const sigma = sigmas[step]!;
    const sigmaNext = sigmas[step + 1]!;
    const { down, up } = profile.ancestral ? ancestralStep(sigma, sigmaNext) : { down: sigmaNext, up: 0 };
    const trustPrompt = (sigma * sigma) / (sigma * sigma + prior2);
    // Ancestral noise: the stored field under a random cyclic shift, as in the text-to-image loop.
    const shift = 1 + Math.floor(shifts() * (fresh.length - 1));
    for (let i = 0; i < x.length; i += 1) {
      const content = x[i]! - sigma * eps[i]!;
      const prediction = content + trustPrompt * (x0[i]! - content);
      const derivative = (x[i]! - prediction) / sigma;
      const j = i + shift < fresh.length ? i + shift : i + shift - fresh.length;
      const noise = up * fresh[j]!;
      x[i] = x[i]! + (down - sigma) * derivative + noise;
      if (sigmaNext > 0) eps[i] = (down * eps[i]! + noise) / sigmaNext;
    }
    opts.onStep();
    opts.onLatent?.({ width: init.width, height: init.height, data: x });
    await yieldToEventLoop();
    if (opts.signal.aborted) throw new CanceledError();
  }
  return { width: init.width, height: init.height, data: x };
}
