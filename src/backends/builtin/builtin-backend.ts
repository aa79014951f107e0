import { STANDARD_SAMPLERS, type Backend, type BackendCapabilities, type GenerateContext, type GeneratedImage, type GeneratedOutput } from '../backend.js';
import { UnrecoverableError } from '../../errors/signals.js';
import { CONTROLNET_TYPES, MAX_GUIDANCE_IMAGES } from '../../jobs/conditioning.js';
import { seedForImage, type JobSpec } from '../../jobs/job-spec.js';
import { appliedLoras } from '../../jobs/loras.js';
import { prepareConditioning } from './conditioning.js';
import { prepareReference, renderImg2Img } from './img2img.js';
import { hiresFix } from './hires-fix.js';
import { decodeLatentToRgb, encodeRgbPng, toRgb8 } from './latent-decode.js';
import { denoise } from './latent-render.js';
import { createLivePreviews, type LivePreviews, type PreviewEncoder, type PreviewPolicy } from './live-preview.js';
import { tintForLoras } from './lora-tint.js';
import { stampPreviewMark } from './preview-mark.js';
import { promptTarget } from './prompt-target.js';
import type { Latent } from './target-field.js';
import { renderVideo } from './render-video.js';

const CAPABILITIES: BackendCapabilities = Object.freeze({
  modes: Object.freeze(['t2i', 'i2i', 't2v', 'i2v', 'ti2v'] as const),
  samplers: STANDARD_SAMPLERS,
  maxWidth: 2048,
  maxHeight: 2048,
  maxSteps: 150,
  maxBatch: 8,
  cancel: true,
  preview: true,
  // A real second pass (hires-fix.ts), on text-to-image as in AUTOMATIC1111.
  hiresFix: true,
  // Cheap stand-ins (conditioning.ts): visible and deterministic, no model weights.
  controlnet: CONTROLNET_TYPES,
  guidanceImages: MAX_GUIDANCE_IMAGES,
});

/** Video guards: the port has no video limits yet, so the renderer keeps its own sane ones. */
const MAX_VIDEO_FRAMES = 1000;
const MAX_VIDEO_FPS = 120;

const isVideo = (spec: JobSpec) => spec.mode === 't2v' || spec.mode === 'i2v' || spec.mode === 'ti2v';

/** The domain checks specs before queueing; this guards against a spec that skipped that. */
function assertSupported(spec: JobSpec): void {
  const fail = (message: string) => {
    throw new UnrecoverableError(message, 'capability_unsupported');
  };
  if (!CAPABILITIES.modes.includes(spec.mode)) fail(`The preview renderer cannot run mode '${spec.mode}'`);
  if (!CAPABILITIES.samplers.includes(spec.sampler)) fail(`The preview renderer has no sampler '${spec.sampler}'`);
  if (!(spec.width >= 1 && spec.width <= CAPABILITIES.maxWidth && spec.height >= 1 && spec.height <= CAPABILITIES.maxHeight)) {
    fail(`The preview renderer cannot render ${spec.width}x${spec.height}`);
  }
  if (!(spec.steps >= 1 && spec.steps <= CAPABILITIES.maxSteps)) fail(`The preview renderer cannot run ${spec.steps} steps`);
  if (!(spec.numImages >= 1 && spec.numImages <= CAPABILITIES.maxBatch)) fail(`The preview renderer cannot render ${spec.numImages} images`);
  if (spec.hiresFix && spec.mode !== 't2i') fail(`The preview renderer runs hires fix on text-to-image only, not ${spec.mode}`);
  // Configuration refuses these for builtin models; a remote model run by a builtin worker can still carry them.
  const { checkpoint, vae, clipSkip } = spec.backendSettings ?? {};
  if (checkpoint !== undefined || vae !== undefined || (clipSkip ?? 1) > 1) fail('The preview renderer has no checkpoint, VAE or text encoder layers to set');
  if (isVideo(spec)) {
    if (spec.width % 2 !== 0 || spec.height % 2 !== 0) fail(`The preview renderer encodes video at even sizes only, not ${spec.width}x${spec.height}`);
    const frames = spec.numFrames;
    if (frames !== undefined && !(Number.isInteger(frames) && frames >= 1 && frames <= MAX_VIDEO_FRAMES)) fail(`The preview renderer cannot render ${frames} frames`);
    if (spec.fps !== undefined && !(spec.fps > 0 && spec.fps <= MAX_VIDEO_FPS)) fail(`The preview renderer cannot encode at ${spec.fps} fps`);
  }
}

/**
 * Renders one text-to-image output, with hires fix's second pass when the spec asks for it,
 * and stamps the PREVIEW mark; depends only on the spec's content and `seed`, never on batch position.
 */
async function renderImage(
  spec: JobSpec,
  seed: number,
  signal: AbortSignal,
  onStep: () => void,
  condition: (target: Latent) => Latent,
  onLatent: ((current: Latent) => void) | undefined,
): Promise<Buffer> {
  const target = condition(promptTarget(spec, seed));
  const sampling = { steps: spec.steps, sampler: spec.sampler, cfgScale: spec.cfgScale, seed, signal, onStep, onLatent };
  const latent = spec.hiresFix ? await hiresFix(target, spec.width, spec.height, sampling) : await denoise(target, sampling);
  const rgb = await decodeLatentToRgb(latent, spec.width, spec.height);
  return encodeRgbPng(stampPreviewMark(rgb, spec.width, spec.height), spec.width, spec.height);
}

/**
 * A batch of images (t2i, i2i): one progress event per step of every image, and live previews
 * of the latent being denoised (the sampler's current state, decoded small) over the whole batch.
 */
async function renderImages(spec: JobSpec, ctx: GenerateContext, previews: LivePreviews | undefined): Promise<GeneratedImage[]> {
  // Hires fix samples twice: the first pass, then the refinement at full size.
  const totalSteps = spec.steps * spec.numImages * (spec.hiresFix ? 2 : 1);
  let step = 0;
  const onStep = () => ctx.onProgress({ step: (step += 1), totalSteps });
  // Reads the latent into fresh bytes only when a preview is due; `step` is already this step's.
  const onLatent = previews && ((current: Latent) => previews.offer(step, totalSteps, () => ({ data: toRgb8(current), width: current.width, height: current.height })));
  const conditioning = await prepareConditioning(spec, ctx.inputs); // once for the whole batch
  const tint = tintForLoras(appliedLoras(spec));
  const condition = (target: Latent) => tint(conditioning ? conditioning.apply(target) : target);
  let render = (seed: number) => renderImage(spec, seed, ctx.signal, onStep, condition, onLatent);
  if (spec.mode === 'i2i') {
    const bytes = ctx.inputs?.reference;
    if (bytes === undefined) throw new UnrecoverableError('Image-to-image needs a reference image but the job has none', 'invalid_parameter');
    const reference = await prepareReference(bytes, spec.width, spec.height); // once for the whole batch
    render = (seed) => renderImg2Img(spec, seed, reference, ctx.signal, onStep, condition, onLatent);
  }
  const images: GeneratedImage[] = [];
  for (let index = 0; index < spec.numImages; index += 1) {
    const seed = seedForImage(spec, index);
    images.push({ kind: 'image', index, seed, width: spec.width, height: spec.height, data: await render(seed) });
  }
  return images;
}

/** What the run view and GET /api/models show for this backend: it says what its pictures are. */
export const PREVIEW_RENDERER_LABEL = 'Atelier preview renderer (built-in, no model weights; outputs are marked PREVIEW)';

export interface BuiltinBackendOptions {
  /** How often live previews may be sent (default: every 200 ms at most, 8 per job, 256 px). */
  readonly previewPolicy?: PreviewPolicy;
  /** The clock previews are spaced by, in ms (default `performance.now()`); tests drive it. */
  readonly previewClock?: () => number;
  /** How a preview is made (default: a JPEG encoded in libvips); tests make it instant. */
  readonly previewEncoder?: PreviewEncoder;
}

/**
 * The built-in preview renderer: a deterministic CPU backend with no model weights, so a fresh
 * install can serve real jobs end to end. The prompt shapes palette and composition, the seed
 * varies the layout, and the same spec (and inputs) always yields byte-identical outputs:
 * PNGs for t2i and i2i, one H.264 MP4 for t2v, i2v and ti2v. Every image and video frame
 * carries a small "PREVIEW" mark in its bottom-right corner (preview-mark.ts), so its
 * pictures are never mistaken for a model's. Hires fix (t2i) runs a real second pass:
 * half-size first pass, upscale, refinement at full size (hires-fix.ts). LoRAs tint the picture (or a
 * video's prompt scenes) a little, per name (lora-tint.ts). With `onPreview` it also sends
 * a few small JPEG previews while it works (live-preview.ts); they only read the render's
 * state, so outputs are the same with or without them.
 *
 * @example const backend = createBuiltinBackend(); const [image] = await backend.generate(spec, { signal, onProgress })
 */
export function createBuiltinBackend(options: BuiltinBackendOptions = {}): Backend {
  const previewOptions = {
    ...(options.previewPolicy && { policy: options.previewPolicy }),
    ...(options.previewClock && { now: options.previewClock }),
    ...(options.previewEncoder && { encode: options.previewEncoder }),
  };
  return {
    kind: 'builtin',
    label: PREVIEW_RENDERER_LABEL,
    capabilities: CAPABILITIES,
    async generate(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedOutput[]> {
      assertSupported(spec);
      const previews = ctx.onPreview ? createLivePreviews(ctx.onPreview, spec.width, spec.height, previewOptions) : undefined;
      try {
        const outputs = isVideo(spec) ? [await renderVideo(spec, ctx, previews)] : await renderImages(spec, ctx, previews);
        await previews?.flush();
        return outputs;
      } finally {
        previews?.close();
      }
    },
  };
}
