import { AtelierError } from '../errors/atelier-error.js';
import type { BackendCapabilities } from '../backends/backend.js';
import type { ModelConfig } from '../backends/model-registry.js';
import { sizeForAspectRatio, sizeForRatio } from './aspect-ratio.js';
import type { GenerationRequest } from './generation-request.js';
import { resolveI2IParameters } from './i2i-parameters.js';
import { resolveBackendSettings } from './backend-settings.js';
import { resolveConditioning, type ConditioningImages } from './conditioning.js';
import { resolveHiresFix } from './hires-fix.js';
import { checkModeImages, type ModeImages } from './image-rules.js';
import { MAX_SEED, type JobSpec, type Mode } from './job-spec.js';
import { resolveLoras } from './loras.js';
import { resolveVideoTiming } from './video-timing.js';

export interface NormalizeContext {
  readonly model: ModelConfig;
  readonly capabilities: BackendCapabilities;
  /** Draws a seed when the request leaves it random; injected so the domain does no I/O. */
  readonly randomSeed: () => number;
  /** The request's images, already stored and validated. */
  readonly images?: ModeImages;
  /** The request's guidance and ControlNet images, already stored and validated. */
  readonly conditioning?: ConditioningImages;
}

export interface Normalized {
  readonly spec: JobSpec;
  readonly warnings: readonly string[];
}

const MODE_NAMES: Record<Mode, string> = { t2i: 'text-to-image', i2i: 'image-to-image', t2v: 'text-to-video', i2v: 'image-to-video', ti2v: 'image-to-video' };
const VIDEO: readonly Mode[] = ['t2v', 'i2v', 'ti2v'];

/**
 * Turns a validated request into the frozen JobSpec: defaults, the resolved seed and size,
 * the per-mode image rules, the SPEC §3 img2img clamps, the model's limits, the LoRAs it
 * allows and its backend settings (copied in, so the job keeps what it was submitted with) —
 * all before anything is queued.
 *
 * @example normalizeRequest('t2i', { prompt: 'a red fox', aspect_ratio: '16:9' }, ctx).spec.width // 1344
 */
export function normalizeRequest(mode: Mode, req: GenerationRequest, ctx: NormalizeContext): Normalized {
  const { model, capabilities } = ctx;
  const images = ctx.images ?? {};
  if (!model.modes.includes(mode) || !capabilities.modes.includes(mode)) {
    throw new AtelierError('capability_unsupported', `Model '${model.name}' does not support ${MODE_NAMES[mode]} (it supports ${model.modes.join(', ')})`, { field: 'model' });
  }
  const warnings = checkModeImages(mode, images);
  const conditioning = resolveConditioning(mode, req.controlnet, ctx.conditioning, capabilities, model.name);
  const loras = resolveLoras(req.loras, model);
  const backendSettings = resolveBackendSettings(model.backendSettings);
  const prompt = (req.prompt ?? '').trim();
  if (prompt === '' && mode !== 'i2i' && mode !== 'i2v') {
    throw new AtelierError('invalid_parameter', `Expected a non-empty prompt for ${MODE_NAMES[mode]}`, { field: 'prompt' });
  }
  if (req.cfg_scale !== undefined && req.guidance_scale !== undefined && req.cfg_scale !== req.guidance_scale) {
    throw new AtelierError('invalid_parameter', 'Expected cfg_scale or its alias guidance_scale, not two different values', { field: 'guidance_scale' });
  }
  if (mode !== 'i2i') {
    for (const field of ['denoise_strength', 'reference_strength', 'exact_copy_mode'] as const) {
      if (req[field] !== undefined) throw new AtelierError('invalid_parameter', `${field} applies only to image-to-image`, { field });
    }
  }

  const shapeOf = images.reference ?? images.start;
  const { width, height } = resolveSize(req, model, shapeOf && shapeOf.width / shapeOf.height);
  checkLimit('width', width, capabilities.maxWidth, model.name);
  checkLimit('height', height, capabilities.maxHeight, model.name);

  let steps = req.steps ?? model.defaultSteps;
  let cfgScale = req.cfg_scale ?? req.guidance_scale ?? model.defaultCfgScale;
  let negativePrompt = req.negative_prompt?.trim() || undefined;
  let i2i: Pick<JobSpec, 'denoiseStrength' | 'exactCopy'> = {};
  if (mode === 'i2i') {
    const resolved = resolveI2IParameters({
      prompt,
      denoiseStrength: req.denoise_strength,
      referenceStrength: req.reference_strength,
      exactCopyMode: req.exact_copy_mode ?? false,
      guidanceScale: cfgScale,
      steps,
      negativePrompt,
    });
    ({ steps, guidanceScale: cfgScale, negativePrompt } = resolved);
    i2i = { denoiseStrength: resolved.denoiseStrength, exactCopy: resolved.exactCopy };
    warnings.push(...resolved.warnings);
  }
  checkLimit('steps', steps, capabilities.maxSteps, model.name);

  const isVideo = VIDEO.includes(mode);
  const numImages = req.num_images ?? 1;
  if (isVideo && numImages !== 1) throw new AtelierError('invalid_parameter', 'Expected num_images 1 for a video', { field: 'num_images' });
  checkLimit('num_images', numImages, capabilities.maxBatch, model.name);
  const video = isVideo ? resolveVideoTiming(req, model) : undefined;
  if (!isVideo) {
    for (const field of ['num_frames', 'duration_seconds', 'fps'] as const) {
      if (req[field] !== undefined) throw new AtelierError('invalid_parameter', `${field} applies only to video`, { field });
    }
  }

  const hiresFix = resolveHiresFix(mode, req.hires_fix, capabilities, model.name);
  const sampler = req.sampler ?? model.defaultSampler;
  if (!capabilities.samplers.includes(sampler)) {
    throw new AtelierError('capability_unsupported', `Expected one of ${capabilities.samplers.join(', ')} for sampler of model '${model.name}' but received '${sampler}'`, { field: 'sampler' });
  }

  const seedFixed = req.seed !== undefined && req.seed !== -1;
  const seed = seedFixed ? req.seed! : ctx.randomSeed();
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new AtelierError('invalid_parameter', `Expected integer 0–${MAX_SEED} or -1 for seed but received ${seed}`, { field: 'seed' });
  }

  const spec: JobSpec = {
    mode,
    model: model.name,
    prompt,
    negativePrompt,
    width,
    height,
    steps,
    cfgScale,
    sampler,
    seed,
    seedFixed,
    numImages,
    hiresFix,
    priority: req.priority ?? 0,
    ...i2i,
    ...(images.reference ? { reference: images.reference } : {}),
    ...(images.start ? { startImage: images.start } : {}),
    ...(images.end ? { endImage: images.end } : {}),
    ...(video ?? {}),
    ...conditioning,
    ...(loras ? { loras } : {}),
    ...(backendSettings ? { backendSettings } : {}),
  };
  return { spec: Object.freeze(spec), warnings };
}

function resolveSize(req: GenerationRequest, model: ModelConfig, inputRatio: number | undefined): { width: number; height: number } {
  const explicit = req.width !== undefined || req.height !== undefined;
  if (explicit && req.aspect_ratio !== undefined) {
    throw new AtelierError('invalid_parameter', 'Expected either width/height or aspect_ratio, not both', { field: 'aspect_ratio' });
  }
  if (req.aspect_ratio !== undefined) return sizeForAspectRatio(req.aspect_ratio, model.baseResolution);
  if (!explicit && inputRatio !== undefined) return sizeForRatio(inputRatio, model.baseResolution);
  if (!explicit && model.defaultAspectRatio !== undefined) return sizeForAspectRatio(model.defaultAspectRatio, model.baseResolution);
  const width = req.width ?? req.height ?? model.baseResolution;
  const height = req.height ?? req.width ?? model.baseResolution;
  for (const [field, value] of [['width', width], ['height', height]] as const) {
    if (value % 8 !== 0) throw new AtelierError('invalid_parameter', `Expected a multiple of 8 for ${field} but received ${value}`, { field });
  }
  return { width, height };
}

function checkLimit(field: string, value: number, max: number, model: string): void {
  if (value > max) {
    throw new AtelierError('capability_unsupported', `Expected at most ${max} for ${field} of model '${model}' but received ${value}`, { field });
  }
}
