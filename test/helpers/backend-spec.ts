/** A frozen JobSpec for adapter tests, and a way to run a backend and keep what it reported. */
import type { Backend, GeneratedImage, PreviewImage, Progress } from '../../src/backends/backend.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';

const BASE: JobSpec = {
  mode: 't2i',
  model: 'sd',
  prompt: 'a lighthouse at dusk',
  negativePrompt: 'blurry',
  width: 512,
  height: 384,
  steps: 6,
  cfgScale: 7,
  sampler: 'Euler',
  seed: 1000,
  seedFixed: true,
  numImages: 1,
  hiresFix: false,
  priority: 0,
};

export const makeSpec = (overrides: Partial<JobSpec> = {}): JobSpec => Object.freeze({ ...BASE, ...overrides });

export interface RunResult {
  readonly images: GeneratedImage[];
  readonly progress: Progress[];
  readonly previews: PreviewImage[];
}

/** Runs `generate` with recorders; outputs are narrowed to images (these adapters make no video). */
export async function runBackend(backend: Backend, spec: JobSpec, opts: { signal?: AbortSignal; reference?: Buffer } = {}): Promise<RunResult> {
  const progress: Progress[] = [];
  const previews: PreviewImage[] = [];
  const outputs = await backend.generate(spec, {
    signal: opts.signal ?? new AbortController().signal,
    onProgress: (p) => progress.push(p),
    onPreview: (p) => previews.push(p),
    ...(opts.reference ? { inputs: { reference: opts.reference } } : {}),
  });
  const images = outputs.map((o) => {
    if (o.kind !== 'image') throw new Error(`Expected images but received a ${o.kind}`);
    return o;
  });
  return { images, progress, previews };
}

/** Resolves when `check` holds, polling every 5 ms; rejects after `ms`. */
export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
