import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateContext, GeneratedImage, GeneratedOutput, GeneratedVideo, PreviewImage } from '../../../src/backends/backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { createLivePreviews, DEFAULT_PREVIEW_POLICY, previewSize, type PreviewPolicy, type RawRgb } from '../../../src/backends/builtin/live-preview.js';
import { CanceledError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';
import { decodeFrames } from '../../media/video/frames.js';

const baseSpec: JobSpec = Object.freeze({
  mode: 't2i',
  model: 'preview',
  prompt: 'a lighthouse on a cliff at sunset',
  negativePrompt: undefined,
  width: 640,
  height: 384,
  steps: 16,
  cfgScale: 7.5,
  sampler: 'Euler',
  seed: 42,
  seedFixed: true,
  numImages: 1,
  hiresFix: false,
  priority: 0,
});
const spec = (overrides: Partial<JobSpec> = {}): JobSpec => Object.freeze({ ...baseSpec, ...overrides });

/** Every step that is due may preview: lets a test see the whole sequence regardless of speed. */
const EVERY_DUE_STEP: PreviewPolicy = { ...DEFAULT_PREVIEW_POLICY, minIntervalMs: 0 };

async function generate(s: JobSpec, extra: Partial<GenerateContext> = {}, policy?: PreviewPolicy): Promise<GeneratedOutput[]> {
  const backend = createBuiltinBackend(policy ? { previewPolicy: policy } : {});
  return backend.generate(s, { signal: new AbortController().signal, onProgress: () => {}, ...extra });
}

async function renderWithPreviews(s: JobSpec, policy?: PreviewPolicy, extra: Partial<GenerateContext> = {}) {
  const previews: PreviewImage[] = [];
  const outputs = await generate(s, { ...extra, onPreview: (p) => previews.push(p) }, policy);
  return { outputs, previews };
}

async function rawOf(image: Buffer, width?: number, height?: number) {
  const pipeline = sharp(image).removeAlpha();
  if (width !== undefined && height !== undefined) pipeline.resize(width, height, { fit: 'fill' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let total = 0;
  for (let i = 0; i < a.length; i += 1) total += Math.abs(a[i]! - b[i]!);
  return total / a.length;
}

/** Checks a preview is a real JPEG with the output's aspect ratio, at most 256 px on the long side. */
async function expectJpegPreview(preview: PreviewImage, width: number, height: number): Promise<void> {
  expect(preview.mime).toBe('image/jpeg');
  const meta = await sharp(preview.data).metadata();
  expect(meta.format).toBe('jpeg');
  expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(256);
  expect(Math.abs(meta.width! / meta.height! - width / height)).toBeLessThan(0.01);
  expect([meta.width, meta.height]).toEqual(Object.values(previewSize(width, height, 256)));
}

const image = (output: GeneratedOutput | undefined): GeneratedImage => {
  if (output?.kind !== 'image') throw new Error(`Expected an image output but received ${output?.kind}`);
  return output;
};

describe('builtin live previews', () => {
  it('declares previews in its capabilities', () => {
    expect(createBuiltinBackend().capabilities.preview).toBe(true);
  });

  it('sends decodable JPEG previews with the output’s aspect ratio for text-to-image, with default throttling', async () => {
    const { outputs, previews } = await renderWithPreviews(spec());
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(previews.length).toBeLessThanOrEqual(8);
    for (const preview of previews) await expectJpegPreview(preview, 640, 384);
    expect(outputs).toHaveLength(1);
  });

  it('shows the image converging: later previews are closer to the final image than the first', async () => {
    const { outputs, previews } = await renderWithPreviews(spec({ width: 1024, height: 1024, steps: 24 }), EVERY_DUE_STEP);
    expect(previews.length).toBeGreaterThanOrEqual(2);
    const final = image(outputs[0]).data;
    const distances: number[] = [];
    for (const preview of previews) {
      const shown = await rawOf(preview.data);
      expect([shown.width, shown.height]).toEqual([256, 256]);
      distances.push(meanAbsDiff(shown.data, (await rawOf(final, shown.width, shown.height)).data));
    }
    // The first preview is mostly noise, the last almost the picture.
    expect(distances.at(-1)!).toBeLessThan(distances[0]! / 2);
    expect(distances.at(-1)!).toBeLessThan(distances[1]!);
    expect(distances.at(-1)!).toBeLessThan(20);
  });

  it('never sends more than 8 previews for one job, counting the whole batch', async () => {
    const { previews } = await renderWithPreviews(spec({ width: 256, height: 256, steps: 60, numImages: 3 }), EVERY_DUE_STEP);
    expect(previews.length).toBeGreaterThanOrEqual(2);
    expect(previews.length).toBeLessThanOrEqual(8);
  });

  it('keeps outputs byte-identical with and without previews (t2i, ancestral sampler, batch)', async () => {
    const s = spec({ sampler: 'Euler a', numImages: 2, steps: 12 });
    const plain = await generate(s);
    const { outputs, previews } = await renderWithPreviews(s, EVERY_DUE_STEP);
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(outputs.map((o, i) => image(o).data.equals(image(plain[i]).data))).toEqual([true, true]);
  });

  it('previews image-to-image runs and keeps their outputs byte-identical', async () => {
    const reference = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#c84' } })
      .composite([{ input: await sharp({ create: { width: 120, height: 120, channels: 3, background: '#126' } }).png().toBuffer(), left: 140, top: 90 }])
      .png()
      .toBuffer();
    // Large enough that a step outlasts a preview's encode, so due previews are not dropped.
    const s = spec({ mode: 'i2i', width: 1024, height: 768, steps: 30, denoiseStrength: 0.8 });
    const inputs = { reference };
    const plain = await generate(s, { inputs });
    const { outputs, previews } = await renderWithPreviews(s, EVERY_DUE_STEP, { inputs });
    expect(image(outputs[0]).data.equals(image(plain[0]).data)).toBe(true);
    expect(previews.length).toBeGreaterThanOrEqual(2);
    for (const preview of previews) await expectJpegPreview(preview, 1024, 768);
    const final = image(outputs[0]).data;
    const first = await rawOf(previews[0]!.data);
    const last = await rawOf(previews.at(-1)!.data);
    const target = await rawOf(final, first.width, first.height);
    expect(meanAbsDiff(last.data, target.data)).toBeLessThan(meanAbsDiff(first.data, target.data));
  });

  it('renders without onPreview exactly as before, with no previews to send', async () => {
    const [a] = await generate(spec({ steps: 8 }));
    const [b] = await generate(spec({ steps: 8 }), {}, EVERY_DUE_STEP);
    expect(image(a).data.equals(image(b).data)).toBe(true);
    expect((await sharp(image(a).data).metadata()).format).toBe('png');
  });

  it('sends nothing after a canceled run rejects', async () => {
    const controller = new AbortController();
    const previews: PreviewImage[] = [];
    const run = createBuiltinBackend({ previewPolicy: EVERY_DUE_STEP }).generate(spec({ width: 1024, height: 1024, steps: 40 }), {
      signal: controller.signal,
      onProgress: ({ step }) => {
        if (step === 21) controller.abort();
      },
      onPreview: (p) => previews.push(p),
    });
    await expect(run).rejects.toBeInstanceOf(CanceledError);
    const atCancel = previews.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(previews.length).toBe(atCancel);
  });

  describe('video', () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'atelier-preview-video-'));
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('previews the latest rendered frames of a video and keeps the MP4 byte-identical', async () => {
      const s = spec({ mode: 't2v', width: 256, height: 192, numFrames: 24, fps: 12 });
      const plain = (await generate(s, { workDir: await mkdtemp(path.join(root, 'plain-')) }))[0] as GeneratedVideo;
      const { outputs, previews } = await renderWithPreviews(s, EVERY_DUE_STEP, { workDir: await mkdtemp(path.join(root, 'live-')) });
      const video = outputs[0] as GeneratedVideo;
      expect((await readFile(video.file)).equals(await readFile(plain.file))).toBe(true);

      // An offer that lands while the previous preview is still encoding is dropped, so a
      // loaded machine may send fewer; at least one always arrives.
      expect(previews.length).toBeGreaterThanOrEqual(1);
      expect(previews.length).toBeLessThanOrEqual(8);
      const frames = await decodeFrames(video.file, 256, 192);
      const nearest: number[] = [];
      for (const preview of previews) {
        await expectJpegPreview(preview, 256, 192);
        const shown = (await rawOf(preview.data)).data;
        const distances = frames.map((frame) => meanAbsDiff(shown, frame));
        // Each preview is one of the video's frames (up to JPEG and H.264 losses) …
        expect(Math.min(...distances)).toBeLessThan(4);
        nearest.push(distances.indexOf(Math.min(...distances)));
      }
      // … and they follow the video forward in time.
      for (let i = 1; i < nearest.length; i++) expect(nearest[i]!).toBeGreaterThan(nearest[i - 1]!);
    });
  });
});

describe('createLivePreviews (throttling)', () => {
  const rgb = (): RawRgb => ({ data: Buffer.alloc(8 * 6 * 3, 128), width: 8, height: 6 });

  it('spreads previews over the run, at most 8, skipping the last step', async () => {
    let clock = 0;
    const sent: PreviewImage[] = [];
    const captured: number[] = [];
    const previews = createLivePreviews((p) => sent.push(p), 800, 600, DEFAULT_PREVIEW_POLICY, () => clock);
    for (let step = 1; step <= 200; step += 1) {
      clock = step * 30; // 30 ms per step: 6 s in all
      previews.offer(step, 200, () => (captured.push(step), rgb()));
      await previews.flush(); // let each encode finish, so only the policy limits previews
    }
    await previews.flush();
    // Due steps are multiples of ceil(200 / 8) = 25 (25 steps × 30 ms already exceed 200 ms)
    // except the last step, whose result follows at once: so never more than 8.
    expect(captured).toEqual([25, 50, 75, 100, 125, 150, 175]);
    expect(sent).toHaveLength(7);
    const meta = await sharp(sent[0]!.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 256, 192]); // 800×600 shown at 256 px
  });

  it('waits at least the interval between previews when steps are fast', async () => {
    let clock = 0;
    const captured: number[] = [];
    const previews = createLivePreviews(() => {}, 512, 512, DEFAULT_PREVIEW_POLICY, () => clock);
    for (let step = 1; step <= 100; step += 1) {
      clock = step * 10; // 10 ms per step: 1 s in all
      previews.offer(step, 100, () => (captured.push(step), rgb()));
      await previews.flush();
    }
    await previews.flush();
    // Every 13th step is due; 200 ms need 20 steps, so every second due step is taken.
    expect(captured).toEqual([13, 39, 65, 91]);
    for (let i = 1; i < captured.length; i += 1) expect((captured[i]! - captured[i - 1]!) * 10).toBeGreaterThanOrEqual(200);
  });

  it('drops offers while a preview is still being encoded, and sends nothing after close', async () => {
    const sent: PreviewImage[] = [];
    const captured: number[] = [];
    const previews = createLivePreviews((p) => sent.push(p), 64, 64, EVERY_DUE_STEP);
    for (let step = 1; step <= 8; step += 1) previews.offer(step, 16, () => (captured.push(step), rgb()));
    expect(captured).toEqual([2]); // one encode in flight: the rest are dropped, not queued
    previews.close();
    await previews.flush();
    expect(sent).toEqual([]);
    previews.offer(10, 16, () => (captured.push(10), rgb()));
    expect(captured).toEqual([2]);
  });

  it('never captures without onPreview', () => {
    const previews = createLivePreviews(undefined, 64, 64, EVERY_DUE_STEP);
    previews.offer(2, 16, () => {
      throw new Error('captured without a listener');
    });
  });

  it('sizes previews to at most 256 px on the long side without enlarging', () => {
    expect(previewSize(1024, 1024, 256)).toEqual({ width: 256, height: 256 });
    expect(previewSize(1280, 720, 256)).toEqual({ width: 256, height: 144 });
    expect(previewSize(384, 2048, 256)).toEqual({ width: 48, height: 256 });
    expect(previewSize(128, 72, 256)).toEqual({ width: 128, height: 72 });
  });
});
