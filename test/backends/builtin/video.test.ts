import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateInputs, GeneratedVideo, Progress } from '../../../src/backends/backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { previewMarkBox } from '../../../src/backends/builtin/preview-mark.js';
import { CanceledError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';
import { centerCropTo } from '../../../src/media/image/center-crop.js';
import { psnr, ssim } from '../../../src/media/image/similarity.js';
import { probeVideo } from '../../../src/media/video/probe-video.js';
import { decodeFrames, meanRgb, processesMentioning } from '../../media/video/frames.js';

const W = 256;
const H = 192;

const baseSpec: JobSpec = Object.freeze({
  mode: 't2v',
  model: 'preview',
  prompt: 'a lighthouse on a cliff at sunset',
  negativePrompt: undefined,
  width: W,
  height: H,
  steps: 20,
  cfgScale: 7.5,
  sampler: 'Euler',
  seed: 42,
  seedFixed: true,
  numImages: 1,
  hiresFix: false,
  priority: 0,
  numFrames: 24,
  fps: 12,
});
const spec = (overrides: Partial<JobSpec> = {}): JobSpec => Object.freeze({ ...baseSpec, ...overrides });

const solid = (colour: string, width = 300, height = 300) => sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();

function meanAbsDiff(a: Buffer, b: Buffer): number {
  let total = 0;
  for (let i = 0; i < a.length; i += 1) total += Math.abs(a[i]! - b[i]!);
  return total / a.length;
}

describe('builtin video', () => {
  let root: string;
  let jobs = 0;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'atelier-video-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function render(s: JobSpec, inputs: GenerateInputs = {}, onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal) {
    const workDir = await mkdtemp(path.join(root, `job-${(jobs += 1)}-`));
    const outputs = await createBuiltinBackend().generate(s, { signal, onProgress, inputs, workDir });
    expect(outputs).toHaveLength(1);
    return { video: outputs[0] as GeneratedVideo, workDir };
  }

  it('i2v from a red start to a blue end: starts red, ends blue, one progress event per frame', async () => {
    const events: Progress[] = [];
    const { video, workDir } = await render(spec({ mode: 'i2v', numFrames: 20 }), { start: await solid('#e01010'), end: await solid('#1020e0', 500, 200) }, (p) => events.push(p));
    const { thumbnail, ...described } = video;
    expect(described).toEqual({ kind: 'video', index: 0, seed: 42, width: W, height: H, fps: 12, frameCount: 20, file: path.join(workDir, '0.mp4') });
    // The middle frame's thumbnail, taken from memory while encoding (issue #17 §3).
    expect(thumbnail).toMatchObject({ width: expect.any(Number), height: expect.any(Number) });
    expect((await sharp(thumbnail!.data).metadata()).format).toBe('webp');
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => ({ step: i + 1, totalSteps: 20 })));
    const probe = await probeVideo(video.file);
    expect([probe.codec, probe.width, probe.height, probe.fps, probe.frame_count]).toEqual(['h264', W, H, 12, 20]);
    expect(probe.duration_seconds).toBeCloseTo(20 / 12, 1);
    const frames = await decodeFrames(video.file, W, H);
    const [r0, , b0] = meanRgb(frames[0]!);
    const [rl, , bl] = meanRgb(frames[19]!);
    expect(r0).toBeGreaterThan(200);
    expect(b0).toBeLessThan(40);
    expect(bl).toBeGreaterThan(200);
    expect(rl).toBeLessThan(40);
    const [rm, , bm] = meanRgb(frames[10]!);
    expect(rm > 60 && bm > 60).toBe(true); // in between, a blend
  });

  it('i2v without an end image: frame 0 is the center-cropped start image, then it moves', async () => {
    const start = await sharp({ create: { width: 640, height: 360, channels: 3, background: 'black', noise: { type: 'gaussian', mean: 120, sigma: 50 } } })
      .blur(2)
      .png()
      .toBuffer();
    const { video } = await render(spec({ mode: 'i2v' }), { start });
    const frames = await decodeFrames(video.file, W, H);
    expect(frames).toHaveLength(24);
    const cropped = await centerCropTo(start, W, H);
    expect(ssim(frames[0]!, cropped, W, H)).toBeGreaterThan(0.85); // H.264 at CRF 20 costs a little
    expect(ssim(frames[23]!, cropped, W, H)).toBeLessThan(0.75); // zoomed, panned and drifted
  });

  it('t2v: a seeded scene of the prompt that visibly moves, byte-identical for the same spec', async () => {
    const a = await render(spec());
    const b = await render(spec());
    const bytes = await readFile(a.video.file);
    expect(bytes.equals(await readFile(b.video.file))).toBe(true);
    const other = await render(spec({ seed: 43 }));
    expect(bytes.equals(await readFile(other.video.file))).toBe(false);
    const frames = await decodeFrames(a.video.file, W, H);
    const steps = frames.slice(1).map((frame, i) => meanAbsDiff(frame, frames[i]!));
    for (const [i, step] of steps.entries()) expect(step, `frame ${i + 1} vs ${i}`).toBeGreaterThan(0.1);
    expect(meanAbsDiff(frames[0]!, frames[23]!)).toBeGreaterThan(4);
  });

  it('t2v frame 0 is the text-to-image picture of the same prompt and seed', async () => {
    const { video } = await render(spec());
    const [first] = await decodeFrames(video.file, W, H);
    const [image] = await createBuiltinBackend().generate(spec({ mode: 't2i' }), { signal: new AbortController().signal, onProgress: () => {} });
    if (image?.kind !== 'image') throw new Error('expected an image');
    expect(psnr(first!, await sharp(image.data).raw().toBuffer(), W, H)).toBeGreaterThan(35);
  });

  it('marks every frame PREVIEW in the same corner, over an i2v start image too', async () => {
    const { video } = await render(spec({ mode: 'i2v', numFrames: 6 }), { start: await solid('#808080') });
    const box = previewMarkBox(W, H);
    for (const frame of await decodeFrames(video.file, W, H)) {
      let bright = 0;
      let dark = 0;
      for (let y = box.top; y < box.top + box.height; y += 1) {
        for (let x = box.left; x < box.left + box.width; x += 1) {
          const luma = frame[(y * W + x) * 3]!;
          if (luma > 200) bright += 1;
          else if (luma < 90) dark += 1;
        }
      }
      // H.264 blurs the letters' edges a little: about 111 white cells on a dark box.
      expect(bright).toBeGreaterThan(60);
      expect(dark).toBeGreaterThan(box.width * box.height * 0.5);
    }
  });

  it('defaults to 48 frames at 16 fps', async () => {
    const events: Progress[] = [];
    const { video } = await render(spec({ numFrames: undefined, fps: undefined, width: 64, height: 48 }), {}, (p) => events.push(p));
    expect([video.frameCount, video.fps, events.length]).toEqual([48, 16, 48]);
    expect((await probeVideo(video.file)).frame_count).toBe(48);
  });

  it('cancels mid-video: CanceledError, ffmpeg gone, no partial file', async () => {
    const controller = new AbortController();
    const events: Progress[] = [];
    const workDir = await mkdtemp(path.join(root, 'cancel-'));
    let ffmpegWhileRunning: number[] = [];
    const run = createBuiltinBackend().generate(spec({ numFrames: 200, width: 512, height: 384 }), {
      signal: controller.signal,
      workDir,
      onProgress: (p) => {
        events.push(p);
        if (p.step === 10) {
          ffmpegWhileRunning = processesMentioning(workDir);
          controller.abort();
        }
      },
    });
    await expect(run).rejects.toBeInstanceOf(CanceledError);
    expect(ffmpegWhileRunning).toHaveLength(1);
    expect(processesMentioning(workDir)).toEqual([]);
    expect(events).toHaveLength(10); // the frame loop checks the signal before every frame
    expect(await readdir(workDir)).toEqual([]);
  });

  it('refuses video jobs it cannot run as unrecoverable', async () => {
    const ctx = { signal: new AbortController().signal, onProgress: () => {} };
    await expect(createBuiltinBackend().generate(spec(), ctx)).rejects.toMatchObject({ name: 'UnrecoverableError' }); // no workDir
    await expect(render(spec({ mode: 'i2v' }))).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'invalid_parameter' });
    await expect(render(spec({ mode: 'ti2v' }), { start: Buffer.from('not an image') })).rejects.toMatchObject({ code: 'invalid_image' });
    await expect(render(spec({ numFrames: 0 }))).rejects.toMatchObject({ code: 'capability_unsupported' });
  });
});
