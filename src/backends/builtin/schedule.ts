/**
 * Noise schedules and samplers in k-diffusion form: x = x0 + σ·ε. Stable Diffusion's σ range
 * is used so step counts behave like a real model's: the first step is almost pure noise.
 */
const SIGMA_MAX = 14.6;
const SIGMA_MIN = 0.03;
const KARRAS_RHO = 7;

/** How a sampler name maps onto this renderer's two real choices. */
export interface SamplerProfile {
  /** Ancestral samplers ("Euler a") inject fresh noise at every step. */
  readonly ancestral: boolean;
  /** Karras spacing spends more steps at low noise. */
  readonly karras: boolean;
}

/**
 * With an exact denoiser, DDIM, Euler and DPM++ 2M take identical paths (their corrections
 * vanish), so only ancestral noise and the spacing of σ distinguish samplers here.
 */
export function samplerProfile(sampler: string): SamplerProfile {
  return { ancestral: sampler.endsWith(' a'), karras: sampler.includes('Karras') };
}

/** `steps + 1` noise levels from σmax down to exactly 0, so the last step lands on x0. */
export function sigmaSchedule(steps: number, karras: boolean): Float64Array {
  const sigmas = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i += 1) {
    const t = steps === 1 ? 0 : i / (steps - 1);
    if (karras) {
      const lo = SIGMA_MIN ** (1 / KARRAS_RHO);
      const hi = SIGMA_MAX ** (1 / KARRAS_RHO);
      sigmas[i] = (hi + t * (lo - hi)) ** KARRAS_RHO;
    } else {
      sigmas[i] = Math.exp(Math.log(SIGMA_MAX) + t * (Math.log(SIGMA_MIN) - Math.log(SIGMA_MAX)));
    }
  }
  return sigmas;
}

/** Ancestral split of a step (k-diffusion's get_ancestral_step): deterministic part, fresh noise. */
export function ancestralStep(sigma: number, sigmaNext: number): { down: number; up: number } {
  const up = Math.min(sigmaNext, Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2));
  return { down: Math.sqrt(sigmaNext ** 2 - up ** 2), up };
}

/**
 * Classifier-free guidance on the denoiser's prediction: the "unconditional" prediction is the
 * field's flat mean colour, so a higher CFG scale pushes colours further from it. Scale 7 is
 * neutral; the gain is kept mild so extreme scales stay pleasant.
 */
export function guidanceGain(cfgScale: number): number {
  return Math.min(1.35, Math.max(0.75, 1 + (cfgScale - 7) * 0.025));
}
