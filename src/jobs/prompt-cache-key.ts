import { createHash } from 'node:crypto';
import type { InputImage, JobSpec } from './job-spec.js';
import { appliedLoras } from './loras.js';

/** How a request uses the prompt cache. `seed-aware` matches only the same fixed seed. */
export type CacheMode = 'seed-aware' | 'seed-agnostic' | 'off';

export interface PromptCacheKeys {
  /** Everything that shapes the output, the seed included. */
  readonly seedHash: string;
  /** The same without the seed. */
  readonly anySeedHash: string;
}

/** Trimmed, whitespace collapsed: "a  red fox " and "a red fox" are one prompt. */
export function normalizePrompt(prompt: string): string {
  return prompt.trim().replace(/\s+/g, ' ');
}

/**
 * SHA-256 keys over the normalised prompt and every parameter that affects the output:
 * mode, model, size, steps, guidance, sampler, negative prompt, batch, hires fix, img2img
 * strength, video timing, input images by content hash (not by id), so two uploads of
 * the same picture share entries, the LoRAs applied (the model's and the request's, merged)
 * and the model's checkpoint, VAE and clip skip — so a changed model configuration does not
 * serve pictures made under the old one.
 *
 * @example promptCacheKeys(spec).seedHash // 'e3b0c4…'
 */
export function promptCacheKeys(spec: JobSpec): PromptCacheKeys {
  const image = (input: InputImage | undefined) => input?.sha256 ?? null;
  // What is applied, not how it was asked for: a request's weight-0 LoRA is no LoRA.
  const loras = appliedLoras(spec);
  const { checkpoint, vae, clipSkip } = spec.backendSettings ?? {};
  const shape = {
    v: 1,
    mode: spec.mode,
    model: spec.model,
    prompt: normalizePrompt(spec.prompt),
    negativePrompt: spec.negativePrompt === undefined ? null : normalizePrompt(spec.negativePrompt),
    width: spec.width,
    height: spec.height,
    steps: spec.steps,
    cfgScale: spec.cfgScale,
    sampler: spec.sampler,
    numImages: spec.numImages,
    hiresFix: spec.hiresFix,
    denoiseStrength: spec.denoiseStrength ?? null,
    reference: image(spec.reference),
    start: image(spec.startImage),
    end: image(spec.endImage),
    numFrames: spec.numFrames ?? null,
    fps: spec.fps ?? null,
    // Only when present, so the keys of unguided runs stay what they were.
    ...(spec.guidanceImages?.length ? { guidance: spec.guidanceImages.map((g) => g.sha256) } : {}),
    ...(spec.controlnet?.length ? { controlnet: spec.controlnet.map((u) => ({ type: u.type, weight: u.weight, start: u.start, end: u.end, image: u.image.sha256 })) } : {}),
    ...(loras.length > 0 ? { loras: loras.map(({ name, weight }) => [name, weight]) } : {}),
    ...(checkpoint !== undefined ? { checkpoint } : {}),
    ...(vae !== undefined ? { vae } : {}),
    ...(clipSkip !== undefined ? { clipSkip } : {}),
  };
  const hash = (value: object) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
  return { seedHash: hash({ ...shape, seed: spec.seed }), anySeedHash: hash(shape) };
}

/**
 * Which key a request looks up, if any: a fixed seed (seed-aware) or any seed
 * (seed-agnostic). A random seed asks for a new picture, so seed-aware mode skips the cache.
 */
export function cacheLookupKey(spec: JobSpec, mode: CacheMode): { hash: string; seedAgnostic: boolean } | undefined {
  if (mode === 'off') return undefined;
  const keys = promptCacheKeys(spec);
  if (mode === 'seed-agnostic') return { hash: keys.anySeedHash, seedAgnostic: true };
  return spec.seedFixed ? { hash: keys.seedHash, seedAgnostic: false } : undefined;
}
