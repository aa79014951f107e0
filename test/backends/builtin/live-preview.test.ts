import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateContext, GeneratedImage, GeneratedOutput, GeneratedVideo, PreviewImage } from '../../../src/backends/backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { createLivePreviews, DEFAULT_PREVIEW_POLICY, encodeJpegPreview, previewSize, type PreviewEncoder, type PreviewPolicy, type PreviewSize, type RawRgb } from '../../../src/backends/builtin/live-preview.js';
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

/** Every step that is due may preview: lets a test see the whole sequence. */
const EVERY_DUE_STEP: PreviewPolicy = { ...DEFAULT_PREVIEW_POLICY, minIntervalMs: 0 };

/** Test time: each progress event (a step or a frame) takes exactly this long. */
const MS_PER_STEP = 50;

async function generate(s: JobSpec, extra: Partial<GenerateContext> = {}, policy?: PreviewPolicy): Promise<GeneratedOutput[]> {
  const backend = createBuiltinBackend(policy ? { previewPolicy: policy } : {});
  return backend.generate(s, { signal: new AbortController().signal, onProgress: () => {}, ...extra });
}

interface Capture {
  readonly rgb: RawRgb;
  readonly size: PreviewSize;
  /** The progress step the render had reached when it was captured. */
  readonly step: number;
}

/**
 * Renders with previews on a clock the test drives (MS_PER_STEP per progress event) and an
 * encoder that is instant: it keeps a copy of each capture and hands it over at once, so no
 * offer is dropped because an encode is still running and the previews sent depend on the
 * policy alone, never on how loaded the machine is. `jpegs` are the captures encoded by the
 * production encoder, to check what a client would have seen.
 */
async function renderWithPreviews(s: JobSpec, policy: PreviewPolicy = DEFAULT_PREVIEW_POLICY, extra: Partial<GenerateContext> = {}) {
  let clock = 0;
  let step = 0;
  const captures: Capture[] = [];
  const sent: PreviewImage[] = [];
  const instant: PreviewEncoder = (rgb, size) => {
    captures.push({ rgb: { ...rgb, data: Buffer.from(rgb.data) }, size, step });
    return { data: Buffer.from(`capture ${captures.length - 1}`), mime: 'image/jpeg' };
  };
  const backend = createBuiltinBackend({ previewPolicy: policy, previewClock: () => clock, previewEncoder: instant });
  const outputs = await backend.generate(s, {
    signal: new AbortController().signal,
    onProgress: (progress) => {
      step = progress.step;
      clock += MS_PER_STEP;
    },
    onPreview: (p) => sent.push(p),
    ...extra,
  });
  // Every capture was delivered, in order, before the outputs.
  expect(sent.map((p) => p.data.toString())).toEqual(captures.map((_, i) => `capture ${i}`));
  const jpegs: PreviewImage[] = [];
  for (const capture of captures) jpegs.push(await encodeJpegPreview(capture.rgb, capture.size));
  return { outputs, previews: jpegs, steps: captures.map((c) => c.step) };
}

/** Each value strictly below the one before. */
function expectStrictlyDecreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i], `value ${i} of ${values.join(', ')}`).toBeLessThan(values[i - 1]!);
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

  it('sends real JPEG previews with the production clock and encoder', async () => {
    const previews: PreviewImage[] = [];
    await generate(spec(), { onPreview: (p) => previews.push(p) });
    // The first due step always previews (nothing sent yet, nothing being encoded); how many
    // follow depends on real time, which the tests below drive instead.
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(previews.length).toBeLessThanOrEqual(8);
    for (const preview of previews) await expectJpegPreview(preview, 640, 384);
  });

  it('throttles text-to-image previews by the default policy: every due step at least 200 ms apart', async () => {
    const { outputs, previews, steps } = await renderWithPreviews(spec());
    // 16 steps: every 2nd is due (ceil(16 / 8)); at 50 ms a step, every 4th is 200 ms after the last.
    expect(steps).toEqual([2, 6, 10, 14]);
    for (const preview of previews) await expectJpegPreview(preview, 640, 384);
    expect(outputs).toHaveLength(1);
  });

  it('shows the image converging: each preview is closer to the final image than the one before', async () => {
    const { outputs, previews, steps } = await renderWithPreviews(spec({ width: 1024, height: 1024, steps: 24 }), EVERY_DUE_STEP);
    expect(steps).toEqual([3, 6, 9, 12, 15, 18, 21]);
    const final = image(outputs[0]).data;
    const distances: number[] = [];
    for (const preview of previews) {
      const shown = await rawOf(preview.data);
      expect([shown.width, shown.height]).toEqual([256, 256]);
      distances.push(meanAbsDiff(shown.data, (await rawOf(final, shown.width, shown.height)).data));
    }
    expectStrictlyDecreasing(distances);
    // The first preview is mostly noise, the last almost the picture.
    expect(distances.at(-1)!).toBeLessThan(distances[0]! / 2);
    expect(distances.at(-1)!).toBeLessThan(20);
  });

  it('never sends more than 8 previews for one job, counting the whole batch', async () => {
    const { previews, steps } = await renderWithPreviews(spec({ width: 256, height: 256, steps: 60, numImages: 3 }), EVERY_DUE_STEP);
    // 180 steps in all: every 23rd is due (ceil(180 / 8)), and 8 × 23 = 184 is past the end.
    expect(steps).toEqual([23, 46, 69, 92, 115, 138, 161]);
    expect(previews).toHaveLength(7);
  });

  it('keeps outputs byte-identical with and without previews (t2i, ancestral sampler, batch)', async () => {
    const s = spec({ sampler: 'Euler a', numImages: 2, steps: 12 });
    const plain = await generate(s);
    const { outputs, steps } = await renderWithPreviews(s, EVERY_DUE_STEP);
    expect(steps).toEqual([3, 6, 9, 12, 15, 18, 21]);
    expect(outputs.map((o, i) => image(o).data.equals(image(plain[i]).data))).toEqual([true, true]);
  });

  it('previews image-to-image runs and keeps their outputs byte-identical', async () => {
    const reference = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#c84' } })
      .composite([{ input: await sharp({ create: { width: 120, height: 120, channels: 3, background: '#126' } }).png().toBuffer(), left: 140, top: 90 }])
      .png()
      .toBuffer();
    const s = spec({ mode: 'i2i', width: 1024, height: 768, steps: 30, denoiseStrength: 0.8 });
    const inputs = { reference };
    const plain = await generate(s, { inputs });
    const { outputs, previews, steps } = await renderWithPreviews(s, EVERY_DUE_STEP, { inputs });
    expect(image(outputs[0]).data.equals(image(plain[0]).data)).toBe(true);
    // 30 steps, every 4th due (ceil(30 / 8)); the first 6 are skipped at once (round(30 × 0.8)
    // are sampled) and preview nothing, so the sampled latent shows from step 8 on.
    expect(steps).toEqual([8, 12, 16, 20, 24, 28]);
    for (const preview of previews) await expectJpegPreview(preview, 1024, 768);
    const final = image(outputs[0]).data;
    const distances: number[] = [];
    for (const preview of previews) {
      const shown = await rawOf(preview.data);
      distances.push(meanAbsDiff(shown.data, (await rawOf(final, shown.width, shown.height)).data));
    }
    expectStrictlyDecreasing(distances);
  });

  it('renders without onPreview exactly as before, with no previews to send', async () => {
    const [a] = await generate(spec({ steps: 8 }));
    const [b] = await generate(spec({ steps: 8 }), {}, EVERY_DUE_STEP);
    expect(image(a).data.equals(image(b).data)).toBe(true);
    expect((await sharp(image(a).data).metadata()).format).toBe('png');
  });

  it('sends nothing after a canceled run rejects, not even a preview that was being encoded', async () => {
    const controller = new AbortController();
    const previews: PreviewImage[] = [];
    const held: { step: number; finish: () => void }[] = [];
    let step = 0;
    // Encodes never finish on their own: the test finishes them once the run has rejected.
    const heldEncoder: PreviewEncoder = () =>
      new Promise<PreviewImage>((resolve) => held.push({ step, finish: () => resolve({ data: Buffer.from('late'), mime: 'image/jpeg' }) }));
    const run = createBuiltinBackend({ previewPolicy: EVERY_DUE_STEP, previewClock: () => step, previewEncoder: heldEncoder }).generate(spec({ width: 256, height: 256, steps: 40 }), {
      signal: controller.signal,
      onProgress: (progress) => {
        step = progress.step;
        if (step === 21) controller.abort();
      },
      onPreview: (p) => previews.push(p),
    });
    await expect(run).rejects.toBeInstanceOf(CanceledError);
    // Step 5 was due (every 5th of 40) and is still encoding, so every later offer was dropped.
    expect(held.map((h) => h.step)).toEqual([5]);
    for (const h of held) h.finish();
    // Everything that finishing can set off runs in microtasks, all done before the next macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    expect(previews).toEqual([]);
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
      const { outputs, previews, steps } = await renderWithPreviews(s, EVERY_DUE_STEP, { workDir: await mkdtemp(path.join(root, 'live-')) });
      const video = outputs[0] as GeneratedVideo;
      expect((await readFile(video.file)).equals(await readFile(plain.file))).toBe(true);

      // 24 frames: every 3rd is due (ceil(24 / 8)) except the last.
      expect(steps).toEqual([3, 6, 9, 12, 15, 18, 21]);
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
      // … the frame just rendered (or a neighbour: one frame barely moves), so they follow the
      // video forward in time.
      nearest.forEach((frame, i) => expect(Math.abs(frame - (steps[i]! - 1)), `preview ${i} looks like frame ${frame}`).toBeLessThanOrEqual(1));
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
    const previews = createLivePreviews((p) => sent.push(p), 800, 600, { now: () => clock });
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
    const previews = createLivePreviews(() => {}, 512, 512, { now: () => clock });
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

  it('drops offers while a preview is still being encoded, takes the next due one once it is done', async () => {
    const sent: PreviewImage[] = [];
    const captured: number[] = [];
    const finish: (() => void)[] = [];
    const held: PreviewEncoder = () => new Promise((resolve) => finish.push(() => resolve({ data: Buffer.from('jpeg'), mime: 'image/jpeg' })));
    const previews = createLivePreviews((p) => sent.push(p), 64, 64, { policy: EVERY_DUE_STEP, encode: held });
    for (let step = 1; step <= 8; step += 1) previews.offer(step, 16, () => (captured.push(step), rgb()));
    expect(captured).toEqual([2]); // one encode in flight: the rest are dropped, not queued
    finish[0]!();
    await previews.flush();
    expect(sent).toHaveLength(1);
    previews.offer(9, 16, () => (captured.push(9), rgb())); // not due
    previews.offer(10, 16, () => (captured.push(10), rgb()));
    expect(captured).toEqual([2, 10]);
  });

  it('sends nothing after close, not even a preview whose encode finishes later', async () => {
    const sent: PreviewImage[] = [];
    const captured: number[] = [];
    const previews = createLivePreviews((p) => sent.push(p), 64, 64, { policy: EVERY_DUE_STEP });
    previews.offer(2, 16, () => (captured.push(2), rgb()));
    previews.close();
    await previews.flush(); // the real JPEG encode finishes here, after close
    expect(sent).toEqual([]);
    previews.offer(4, 16, () => (captured.push(4), rgb()));
    expect(captured).toEqual([2]);
  });

  it('delivers an instant encoder’s preview before offer returns, and never counts it as in flight', () => {
    const sent: string[] = [];
    const instant: PreviewEncoder = (_rgb, size) => ({ data: Buffer.from(`${size.width}x${size.height}`), mime: 'image/jpeg' });
    const previews = createLivePreviews((p) => sent.push(p.data.toString()), 640, 384, { policy: EVERY_DUE_STEP, encode: instant });
    for (let step = 1; step <= 16; step += 1) previews.offer(step, 16, rgb);
    expect(sent).toEqual(Array(7).fill('256x154'));
  });

  it('ignores an encoder that fails, at once or later', async () => {
    const sent: PreviewImage[] = [];
    let calls = 0;
    const failing: PreviewEncoder = () => {
      calls += 1;
      if (calls === 1) throw new Error('cannot encode');
      return Promise.reject(new Error('cannot encode either'));
    };
    const previews = createLivePreviews((p) => sent.push(p), 64, 64, { policy: EVERY_DUE_STEP, encode: failing });
    previews.offer(2, 16, rgb);
    previews.offer(4, 16, rgb);
    await previews.flush();
    previews.offer(6, 16, rgb);
    await previews.flush();
    expect([calls, sent.length]).toEqual([3, 0]);
  });

  it('never captures without onPreview', () => {
    const previews = createLivePreviews(undefined, 64, 64, { policy: EVERY_DUE_STEP });
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
