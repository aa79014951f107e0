import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createBuiltinBackend } from '../src/backends/builtin/builtin-backend.js';
import type { JobSpec } from '../src/jobs/job-spec.js';

const RUNS = 3;

export interface BuiltinMediaBench {
  /** Median ms of a 1024×1024, 30-step, denoise 0.6 image-to-image from a 1024² PNG reference. */
  readonly i2iMs: number;
  /** Median ms of an 832×480, 48-frame text-to-video, MP4 written. */
  readonly videoMs: number;
}

const base: JobSpec = Object.freeze({
  mode: 't2i', model: 'preview', prompt: 'a lighthouse on a cliff at dusk, warm light, stormy sea', negativePrompt: undefined,
  width: 1024, height: 1024, steps: 30, cfgScale: 7.5, sampler: 'Euler', seed: 1000, seedFixed: true, numImages: 1, hiresFix: false, priority: 0,
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median of `RUNS` timed calls after one untimed warm-up (libvips and x264 start-up). */
async function time(fn: (i: number) => Promise<unknown>): Promise<number> {
  await fn(-1);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    await fn(i);
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * The built-in renderer's new media paths, end to end in-process: image-to-image (center crop
 * of the reference, latent encode, 18 sampled steps of 30, full-resolution blend, PNG) and
 * text-to-video (frames composed in JavaScript, piped into ffmpeg/x264, MP4 on disk).
 */
export async function benchBuiltinMedia(): Promise<BuiltinMediaBench> {
  const backend = createBuiltinBackend();
  const signal = new AbortController().signal;
  const onProgress = () => {};
  // A structured, non-flat reference (noise over a gradient), like a photo to start from.
  const reference = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: { r: 90, g: 120, b: 160 }, noise: { type: 'gaussian', mean: 110, sigma: 40 } } })
    .blur(1.5)
    .png()
    .toBuffer();
  const i2iMs = await time((i) => backend.generate({ ...base, mode: 'i2i', seed: 2000 + i, denoiseStrength: 0.6 }, { signal, onProgress, inputs: { reference } }));
  const dir = await mkdtemp(join(tmpdir(), 'atelier-bench-video-'));
  try {
    const videoMs = await time(async (i) => {
      const workDir = await mkdtemp(join(dir, 'job-'));
      await backend.generate({ ...base, mode: 't2v', width: 832, height: 480, numFrames: 48, fps: 16, seed: 3000 + i }, { signal, onProgress, workDir });
    });
    return { i2iMs, videoMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
