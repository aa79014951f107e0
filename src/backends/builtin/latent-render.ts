import { CanceledError } from '../../errors/signals.js';
import { deriveSeed, gaussianSource, mulberry32 } from './prng.js';
import { ancestralStep, guidanceGain, samplerProfile, sigmaSchedule } from './schedule.js';
import type { Latent } from './target-field.js';

export interface DenoiseOptions {
  readonly steps: number;
  readonly sampler: string;
  readonly cfgScale: number;
  readonly seed: number;
  readonly signal: AbortSignal;
  /** Called once after each completed step. */
  readonly onStep: () => void;
  /**
   * Called after `onStep` with the sampler's current latent (live previews). It must only read
   * it, and at once: the loop overwrites the same array in the next step.
   */
  readonly onLatent?: (current: Latent) => void;
}

export const SALT_INITIAL_NOISE = 0;
export const SALT_ANCESTRAL_NOISE = 1;

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The denoiser's x0 prediction with guidance applied: uncond + gain·(cond − uncond). */
export function guidedPrediction(target: Latent, cfgScale: number): Float32Array {
  const gain = guidanceGain(cfgScale);
  const mean = [0, 0, 0];
  const pixels = target.data.length / 3;
  target.data.forEach((value, i) => (mean[i % 3]! += value / pixels));
  return target.data.map((value, i) => Math.min(1, Math.max(-1, mean[i % 3]! + gain * (value - mean[i % 3]!))));
}

/**
 * Runs a real sampling loop on the latent: it starts from seeded noise at σmax and, step by
 * step, follows the schedule toward the denoiser's prediction, ending at σ = 0. The denoiser is
 * exact (it returns the target field), so the result is the guided target; the loop exists so
 * progress, cancellation and cost scale with `steps` the way a model's would.
 *
 * @throws CanceledError when `signal` aborts; it is checked after every step.
 */
export async function denoise(target: Latent, opts: DenoiseOptions): Promise<Latent> {
  if (opts.signal.aborted) throw new CanceledError();
  const x0 = guidedPrediction(target, opts.cfgScale);
  const profile = samplerProfile(opts.sampler);
  const sigmas = sigmaSchedule(opts.steps, profile.karras);
  const noise = Float32Array.from({ length: x0.length }, gaussianSource(mulberry32(deriveSeed(opts.seed, SALT_INITIAL_NOISE))));
  const shifts = mulberry32(deriveSeed(opts.seed, SALT_ANCESTRAL_NOISE));
  const x = noise.map((value) => sigmas[0]! * value);

  for (let step = 0; step < opts.steps; step += 1) {
    const sigma = sigmas[step]!;
    const sigmaNext = sigmas[step + 1]!;
    const { down, up } = profile.ancestral ? ancestralStep(sigma, sigmaNext) : { down: sigmaNext, up: 0 };
    // Fresh ancestral noise is the stored field under a random cyclic shift: still i.i.d.
    // normal per element and (for a shift ≠ 0) uncorrelated with the same element's noise,
    // without drawing millions of new samples per image (Box–Muller here tripled the cost).
    const shift = 1 + Math.floor(shifts() * (noise.length - 1));
    for (let i = 0; i < x.length; i += 1) {
      const derivative = (x[i]! - x0[i]!) / sigma;
      const j = i + shift < noise.length ? i + shift : i + shift - noise.length;
      x[i] = x[i]! + (down - sigma) * derivative + up * noise[j]!;
    }
    opts.onStep();
    opts.onLatent?.({ width: target.width, height: target.height, data: x });
    await yieldToEventLoop();
    if (opts.signal.aborted) throw new CanceledError();
  }
  return { width: target.width, height: target.height, data: x };
}
