import { AtelierError } from '../errors/atelier-error.js';
import type { BackendCapabilities } from '../backends/backend.js';
import type { ModelConfig } from '../backends/model-registry.js';
import { sizeForAspectRatio } from './aspect-ratio.js';
import type { TextToImageRequest } from './generation-request.js';
import { MAX_SEED, type JobSpec } from './job-spec.js';

export interface NormalizeContext {
  readonly model: ModelConfig;
  readonly capabilities: BackendCapabilities;
  /** Draws a seed when the request leaves it random; injected so the domain does no I/O. */
  readonly randomSeed: () => number;
}

/**
 * Turns a validated request into the frozen JobSpec, applying defaults, resolving the seed
 * and the size, and refusing what the model cannot do — all before anything is queued.
 *
 * @example normalizeTextToImage({ prompt: 'a red fox', aspect_ratio: '16:9' }, ctx).width // 1344
 */
export function normalizeTextToImage(req: TextToImageRequest, ctx: NormalizeContext): JobSpec {
  const { model, capabilities } = ctx;
  if (!model.modes.includes('t2i') || !capabilities.modes.includes('t2i')) {
    throw new AtelierError('capability_unsupported', `Model '${model.name}' does not support text-to-image`, { field: 'model' });
  }
  if (req.prompt.trim() === '') {
    throw new AtelierError('invalid_parameter', 'Expected a non-empty prompt for text-to-image', { field: 'prompt' });
  }
  if (req.cfg_scale !== undefined && req.guidance_scale !== undefined && req.cfg_scale !== req.guidance_scale) {
    throw new AtelierError('invalid_parameter', 'Expected cfg_scale or its alias guidance_scale, not two different values', { field: 'guidance_scale' });
  }

  const { width, height } = resolveSize(req, model);
  checkLimit('width', width, capabilities.maxWidth, model.name);
  checkLimit('height', height, capabilities.maxHeight, model.name);

  const steps = req.steps ?? model.defaultSteps;
  checkLimit('steps', steps, capabilities.maxSteps, model.name);
  const numImages = req.num_images ?? 1;
  checkLimit('num_images', numImages, capabilities.maxBatch, model.name);

  const sampler = req.sampler ?? model.defaultSampler;
  if (!capabilities.samplers.includes(sampler)) {
    throw new AtelierError(
      'capability_unsupported',
      `Expected one of ${capabilities.samplers.join(', ')} for sampler of model '${model.name}' but received '${sampler}'`,
      { field: 'sampler' },
    );
  }

  const seedFixed = req.seed !== undefined && req.seed !== -1;
  const seed = seedFixed ? req.seed! : ctx.randomSeed();
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new AtelierError('invalid_parameter', `Expected integer 0–${MAX_SEED} or -1 for seed but received ${seed}`, { field: 'seed' });
  }
  const negative = req.negative_prompt?.trim();

  return Object.freeze({
    mode: 't2i',
    model: model.name,
    prompt: req.prompt.trim(),
    negativePrompt: negative ? negative : undefined,
    width,
    height,
    steps,
    cfgScale: req.cfg_scale ?? req.guidance_scale ?? model.defaultCfgScale,
    sampler,
    seed,
    seedFixed,
    numImages,
    hiresFix: req.hires_fix ?? false,
    priority: req.priority ?? 0,
  });
}

function resolveSize(req: TextToImageRequest, model: ModelConfig): { width: number; height: number } {
  const explicit = req.width !== undefined || req.height !== undefined;
  if (explicit && req.aspect_ratio !== undefined) {
    throw new AtelierError('invalid_parameter', 'Expected either width/height or aspect_ratio, not both', { field: 'aspect_ratio' });
  }
  if (req.aspect_ratio !== undefined) return sizeForAspectRatio(req.aspect_ratio, model.baseResolution);
  const width = req.width ?? req.height ?? model.baseResolution;
  const height = req.height ?? req.width ?? model.baseResolution;
  for (const [field, value] of [['width', width], ['height', height]] as const) {
    if (value % 8 !== 0) {
      throw new AtelierError('invalid_parameter', `Expected a multiple of 8 for ${field} but received ${value}`, { field });
    }
  }
  return { width, height };
}

function checkLimit(field: string, value: number, max: number, model: string): void {
  if (value > max) {
    throw new AtelierError('capability_unsupported', `Expected at most ${max} for ${field} of model '${model}' but received ${value}`, { field });
  }
}
