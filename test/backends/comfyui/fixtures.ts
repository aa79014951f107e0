import type { GeneratedImage, GeneratedOutput, Progress, PreviewImage } from '../../../src/backends/backend.js';
import { createComfyUIBackend, type ComfyUIBackendOptions } from '../../../src/backends/comfyui/comfyui-backend.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';

const baseSpec: JobSpec = Object.freeze({
  mode: 't2i',
  model: 'sd15',
  prompt: 'a lighthouse at dusk',
  negativePrompt: undefined,
  width: 64,
  height: 48,
  steps: 6,
  cfgScale: 7.5,
  sampler: 'Euler',
  seed: 42,
  seedFixed: true,
  numImages: 1,
  hiresFix: false,
  priority: 0,
});

/** A frozen JobSpec with overrides. */
export const spec = (overrides: Partial<JobSpec> = {}): JobSpec => Object.freeze({ ...baseSpec, ...overrides });

/** A backend with small timeouts, so a fault settles in well under a second or two. */
export const backendFor = (url: string, overrides: Partial<ComfyUIBackendOptions> = {}) =>
  createComfyUIBackend({ url, timeouts: { connectMs: 500, generationMs: 3_000 }, pollIntervalMs: 20, ...overrides });

/** A GenerateContext that records what the backend reported. */
export function recorder(controller = new AbortController()) {
  const progress: Progress[] = [];
  const previews: PreviewImage[] = [];
  return {
    progress,
    previews,
    controller,
    ctx: { signal: controller.signal, onProgress: (p: Progress) => progress.push(p), onPreview: (p: PreviewImage) => previews.push(p) },
  };
}

export function images(outputs: GeneratedOutput[]): GeneratedImage[] {
  return outputs.map((output) => {
    if (output.kind !== 'image') throw new Error(`Expected image outputs but received a ${output.kind}`);
    return output;
  });
}

/** Resolves to the settled outcome and how long it took, failing if it takes longer than `ms`. */
export async function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; elapsed: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms)));
  try {
    const value = await Promise.race([promise, limit]);
    return { value, elapsed: Date.now() - started };
  } catch (error) {
    if (error instanceof Error && error.message === `did not settle within ${ms} ms`) throw error;
    return { error, elapsed: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
