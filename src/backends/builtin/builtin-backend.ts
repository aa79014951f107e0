import type { Backend, BackendCapabilities, GenerateContext, GeneratedImage } from '../backend.js';
import { UnrecoverableError } from '../../errors/signals.js';
import { seedForImage, type JobSpec } from '../../jobs/job-spec.js';
import { decodeLatentToPng } from './latent-decode.js';
import { denoise } from './latent-render.js';
import { promptPalette } from './prompt-palette.js';
import { composeScene } from './scene.js';
import { renderTargetField } from './target-field.js';

/** The latent is 1/4 of the output per side, like Stable Diffusion's 1/8 but softer to upsample. */
const LATENT_FACTOR = 4;

const CAPABILITIES: BackendCapabilities = Object.freeze({
  modes: Object.freeze(['t2i'] as const),
  samplers: Object.freeze(['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDIM']),
  maxWidth: 2048,
  maxHeight: 2048,
  maxSteps: 150,
  maxBatch: 8,
  cancel: true,
  preview: false,
});

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
}

/** Renders one image; depends only on the spec's content and `seed`, never on batch position. */
async function renderImage(spec: JobSpec, seed: number, signal: AbortSignal, onStep: () => void): Promise<Buffer> {
  const latentWidth = Math.max(1, Math.ceil(spec.width / LATENT_FACTOR));
  const latentHeight = Math.max(1, Math.ceil(spec.height / LATENT_FACTOR));
  const scene = composeScene(promptPalette(spec.prompt, spec.negativePrompt), seed);
  const target = renderTargetField(scene, latentWidth, latentHeight, seed);
  const latent = await denoise(target, { steps: spec.steps, sampler: spec.sampler, cfgScale: spec.cfgScale, seed, signal, onStep });
  return decodeLatentToPng(latent, spec.width, spec.height);
}

/**
 * The built-in preview renderer: a deterministic CPU backend with no model weights, so a fresh
 * install can serve real jobs end to end. The prompt shapes palette and composition, the seed
 * varies the layout, and the same spec always yields byte-identical PNGs.
 *
 * @example const backend = createBuiltinBackend(); const [image] = await backend.generate(spec, { signal, onProgress })
 */
export function createBuiltinBackend(): Backend {
  return {
    kind: 'builtin',
    label: 'Atelier preview renderer (built-in, no model weights)',
    capabilities: CAPABILITIES,
    async generate(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedImage[]> {
      assertSupported(spec);
      const totalSteps = spec.steps * spec.numImages;
      let step = 0;
      const onStep = () => ctx.onProgress({ step: (step += 1), totalSteps });
      const images: GeneratedImage[] = [];
      for (let index = 0; index < spec.numImages; index += 1) {
        const seed = seedForImage(spec, index);
        const data = await renderImage(spec, seed, ctx.signal, onStep);
        images.push({ kind: 'image', index, seed, width: spec.width, height: spec.height, data });
      }
      return images;
    },
  };
}
