import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GenerateInputs, GeneratedImage, Progress } from '../../../src/backends/backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { CanceledError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';
import { stampPreviewMark } from '../../../src/backends/builtin/preview-mark.js';
import { centerCropTo } from '../../../src/media/image/center-crop.js';
import { psnr, ssim } from '../../../src/media/image/similarity.js';

const W = 512;
const H = 384;

const baseSpec: JobSpec = Object.freeze({
  mode: 'i2i',
  model: 'preview',
  prompt: 'a deep blue ocean at night',
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
  denoiseStrength: 0.6,
});
const spec = (overrides: Partial<JobSpec> = {}): JobSpec => Object.freeze({ ...baseSpec, ...overrides });

/** A detailed reference, wider than the output: fine checks, rings and a gradient in warm colours. */
async function makeReference(width: number, height: number, phase = 0): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const o = (y * width + x) * 3;
      const check = ((Math.floor((x + phase) / 6) + Math.floor(y / 6)) % 2) * 70;
      const ring = 60 * Math.sin(Math.hypot(x - width / 2, y - height / 2) / (5 + phase / 10));
      raw[o] = Math.max(0, Math.min(255, 150 + ring + check / 2));
      raw[o + 1] = Math.max(0, Math.min(255, 40 + check + (x / width) * 80));
      raw[o + 2] = Math.max(0, Math.min(255, 30 + (y / height) * 60 - ring / 3));
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function render(s: JobSpec, inputs: GenerateInputs, onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal) {
  const outputs = await createBuiltinBackend().generate(s, { signal, onProgress, inputs });
  return outputs as GeneratedImage[];
}

const rgbOf = async (png: Buffer) => sharp(png).removeAlpha().raw().toBuffer();

function maxAbsDiff(a: Buffer, b: Buffer): number {
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('builtin image-to-image', () => {
  let reference: Buffer;
  let other: Buffer;
  let cropped: Buffer;
  beforeAll(async () => {
    reference = await makeReference(800, 450); // 16:9 into 4:3: the sides are cropped away
    other = await makeReference(640, 640, 17);
    cropped = await centerCropTo(reference, W, H);
  });

  const outputRgb = async (s: JobSpec, ref = reference) => {
    const [image] = await render(s, { reference: ref });
    expect([image!.kind, image!.width, image!.height]).toEqual(['image', W, H]);
    return rgbOf(image!.data);
  };

  it('returns the center-cropped reference, with the PREVIEW mark, at denoise 0', async () => {
    const rgb = await outputRgb(spec({ denoiseStrength: 0 }));
    expect(maxAbsDiff(rgb, stampPreviewMark(Buffer.from(cropped), W, H))).toBeLessThanOrEqual(2);
  });

  it('keeps the reference with the exact-copy parameters (denoise 0.05, CFG 1, 6 steps, empty prompt)', async () => {
    const rgb = await outputRgb(spec({ prompt: '', denoiseStrength: 0.05, cfgScale: 1, steps: 6, exactCopy: true }));
    expect(ssim(rgb, cropped, W, H)).toBeGreaterThanOrEqual(0.95);
    expect(psnr(rgb, cropped, W, H)).toBeGreaterThan(30);
  });

  it('moves from the reference toward the prompt as denoise grows', async () => {
    const scores: number[] = [];
    for (const denoiseStrength of [0.2, 0.5, 0.8, 1]) scores.push(ssim(await outputRgb(spec({ denoiseStrength })), cropped, W, H));
    for (let i = 1; i < scores.length; i += 1) expect(scores[i]!, `ssim at step ${i}: ${scores.join(', ')}`).toBeLessThan(scores[i - 1]!);
    expect(scores[0]).toBeGreaterThan(0.8);
    expect(scores[3]).toBeLessThan(0.3);
  });

  it('ignores the reference at denoise 1: two references give nearly the same image, close to text-to-image', async () => {
    const a = await outputRgb(spec({ denoiseStrength: 1 }));
    const b = await outputRgb(spec({ denoiseStrength: 1 }), other);
    expect(ssim(a, b, W, H)).toBeGreaterThan(0.95);
    expect(psnr(a, b, W, H)).toBeGreaterThan(35);
    const [t2i] = await render(spec({ mode: 't2i', denoiseStrength: undefined }), {});
    expect(psnr(a, await rgbOf(t2i!.data), W, H)).toBeGreaterThan(30);
    // …whereas at denoise 0.5 the reference still decides much of the picture.
    const half = ssim(await outputRgb(spec({ denoiseStrength: 0.5 })), await outputRgb(spec({ denoiseStrength: 0.5 }), other), W, H);
    expect(half).toBeLessThan(0.8);
  });

  it('follows the prompt: the colour shifts toward the prompt palette with denoise', async () => {
    const blue = async (d: number) => (await sharp(await outputRgb(spec({ denoiseStrength: d })), { raw: { width: W, height: H, channels: 3 } }).stats()).channels.map((c) => c.mean);
    const [r0, , b0] = await blue(0);
    const [r1, , b1] = await blue(0.8);
    expect(b1! - r1!).toBeGreaterThan(b0! - r0! + 40); // a warm reference turns blue for "a deep blue ocean"
  });

  it('is deterministic: same spec and reference bytes give byte-identical PNGs, batch image i = seed + i alone', async () => {
    const [a] = await render(spec(), { reference });
    const [b] = await render(spec(), { reference });
    expect(a!.data.equals(b!.data)).toBe(true);
    const batch = await render(spec({ numImages: 2, seed: 9 }), { reference });
    const [alone] = await render(spec({ seed: 10 }), { reference });
    expect(batch[1]!.data.equals(alone!.data)).toBe(true);
    expect(batch[0]!.data.equals(batch[1]!.data)).toBe(false);
  });

  it.each([0, 0.05, 0.6, 1])('reports exactly steps × images progress events at denoise %s', async (denoiseStrength) => {
    const events: Progress[] = [];
    await render(spec({ denoiseStrength, steps: 7, numImages: 2, width: 128, height: 96 }), { reference }, (p) => events.push(p));
    expect(events).toEqual(Array.from({ length: 14 }, (_, i) => ({ step: i + 1, totalSteps: 14 })));
  });

  it('stops with CanceledError when aborted mid-run', async () => {
    const controller = new AbortController();
    const events: Progress[] = [];
    const run = render(spec({ steps: 20, denoiseStrength: 0.5 }), { reference }, (p) => {
      events.push(p);
      if (p.step === 14) controller.abort();
    }, controller.signal);
    await expect(run).rejects.toBeInstanceOf(CanceledError);
    expect(events).toHaveLength(14);
  });

  it('refuses a missing or undecodable reference as unrecoverable', async () => {
    await expect(render(spec(), {})).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'invalid_parameter' });
    await expect(render(spec(), { reference: reference.subarray(0, 200) })).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'invalid_image' });
  });
});
