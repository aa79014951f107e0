import type { JobSpec } from '../../jobs/job-spec.js';
import { promptPalette } from './prompt-palette.js';
import { composeScene } from './scene.js';
import { renderTargetField, type Latent } from './target-field.js';

/** The latent is 1/4 of the output per side, like Stable Diffusion's 1/8 but softer to upsample. */
export const LATENT_FACTOR = 4;

/** The latent size for an output size. */
export function latentSize(width: number, height: number): { width: number; height: number } {
  return { width: Math.max(1, Math.ceil(width / LATENT_FACTOR)), height: Math.max(1, Math.ceil(height / LATENT_FACTOR)) };
}

/**
 * The prompt's target field at latent size: the picture the "denoiser" steers toward. The
 * prompt fixes palette and composition, `seed` the jitter and texture; video asks for a second
 * scene of the same prompt by passing a derived seed.
 */
export function promptTarget(spec: Pick<JobSpec, 'prompt' | 'negativePrompt' | 'width' | 'height'>, seed: number): Latent {
  const { width, height } = latentSize(spec.width, spec.height);
  const scene = composeScene(promptPalette(spec.prompt, spec.negativePrompt), seed);
  return renderTargetField(scene, width, height, seed);
}
