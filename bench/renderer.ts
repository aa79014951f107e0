import { createBuiltinBackend } from '../src/backends/builtin/builtin-backend.js';
import type { JobSpec } from '../src/jobs/job-spec.js';

/** Milliseconds per 1024×1024, 30-step image of the built-in preview renderer (median of runs). */
export async function benchRenderer(runs: number): Promise<{ medianMs: number; minMs: number }> {
  const backend = createBuiltinBackend();
  const times: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const spec: JobSpec = Object.freeze({
      mode: 't2i', model: 'preview', prompt: 'a lighthouse on a cliff at dusk, warm light, stormy sea', negativePrompt: undefined,
      width: 1024, height: 1024, steps: 30, cfgScale: 7.5, sampler: 'Euler', seed: 1000 + i, seedFixed: true, numImages: 1, hiresFix: false, priority: 0,
    });
    const started = performance.now();
    await backend.generate(spec, { signal: new AbortController().signal, onProgress: () => {} });
    if (i > 0) times.push(performance.now() - started); // the first run warms up libvips
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, minMs: times[0]! };
}
