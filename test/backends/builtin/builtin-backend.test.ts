import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import type { GeneratedImage, Progress } from '../../../src/backends/backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { previewMarkBox } from '../../../src/backends/builtin/preview-mark.js';
import { psnr } from '../../../src/media/image/similarity.js';
import { CanceledError, UnrecoverableError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';

const baseSpec: JobSpec = Object.freeze({
  mode: 't2i',
  model: 'preview',
  prompt: 'a lighthouse on a cliff at sunset',
  negativePrompt: undefined,
  width: 512,
  height: 512,
  steps: 10,
  cfgScale: 7.5,
  sampler: 'Euler',
  seed: 42,
  seedFixed: true,
  numImages: 1,
  hiresFix: false,
  priority: 0,
});

const spec = (overrides: Partial<JobSpec> = {}): JobSpec => Object.freeze({ ...baseSpec, ...overrides });

/** Renders an image job; outputs are a union with videos, so narrow on `kind`. */
async function render(s: JobSpec, onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal): Promise<GeneratedImage[]> {
  const outputs = await createBuiltinBackend().generate(s, { signal, onProgress });
  return outputs.map((output) => {
    if (output.kind !== 'image') throw new Error(`Expected image outputs for mode ${s.mode} but received a ${output.kind}`);
    return output;
  });
}

async function decode(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}

async function meanColour(png: Buffer): Promise<[number, number, number]> {
  const { channels } = await sharp(png).stats();
  return [channels[0]!.mean, channels[1]!.mean, channels[2]!.mean];
}

describe('builtin preview backend', () => {
  it('declares its identity and capabilities', () => {
    const backend = createBuiltinBackend();
    expect(backend.kind).toBe('builtin');
    expect(backend.label).toBe('Atelier preview renderer (built-in, no model weights; outputs are marked PREVIEW)');
    expect(backend.capabilities).toEqual({
      modes: ['t2i', 'i2i', 't2v', 'i2v', 'ti2v'],
      samplers: ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDIM'],
      maxWidth: 2048,
      maxHeight: 2048,
      maxSteps: 150,
      maxBatch: 8,
      cancel: true,
      preview: true,
      hiresFix: true,
      controlnet: ['canny', 'depth', 'pose', 'scribble', 'lineart'],
      guidanceImages: 4,
    });
  });

  it('renders byte-identical PNGs for the same spec', async () => {
    for (const sampler of ['Euler', 'Euler a', 'DPM++ 2M Karras']) {
      const [a] = await render(spec({ sampler }));
      const [b] = await render(spec({ sampler }));
      expect(a!.data.subarray(0, 8).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
      expect(a!.data.equals(b!.data)).toBe(true);
    }
  });

  it('renders a visibly different image for a different seed', async () => {
    const [a] = await render(spec({ seed: 42 }));
    const [b] = await render(spec({ seed: 43 }));
    expect(a!.data.equals(b!.data)).toBe(false);
    const [pa, pb] = await Promise.all([decode(a!.data), decode(b!.data)]);
    let total = 0;
    for (let i = 0; i < pa.data.length; i += 1) total += Math.abs(pa.data[i]! - pb.data[i]!);
    // Mean absolute difference per channel, in 0–255: well above rounding noise.
    expect(total / pa.data.length).toBeGreaterThan(4);
  });

  it("lets the prompt's colour words drive the palette", async () => {
    const [ocean] = await render(spec({ prompt: 'a deep blue ocean at night' }));
    const [fire] = await render(spec({ prompt: 'a red fire in the desert' }));
    const [oceanR, , oceanB] = await meanColour(ocean!.data);
    const [fireR, , fireB] = await meanColour(fire!.data);
    expect(oceanB).toBeGreaterThan(oceanR + 20);
    expect(fireR).toBeGreaterThan(fireB + 20);
    expect(oceanB).toBeGreaterThan(fireB);
    expect(fireR).toBeGreaterThan(oceanR);
  });

  it('lets the negative prompt push a named colour away', async () => {
    const [plain] = await render(spec({ prompt: 'a red rose garden' }));
    const [avoided] = await render(spec({ prompt: 'a red rose garden', negativePrompt: 'red' }));
    const [plainR, plainG] = await meanColour(plain!.data);
    const [avoidedR, avoidedG] = await meanColour(avoided!.data);
    expect(avoidedR - avoidedG).toBeLessThan(plainR - plainG);
  });

  it('honours width and height exactly, as 3-channel PNG', async () => {
    const [image] = await render(spec({ width: 640, height: 384 }));
    const meta = await sharp(image!.data).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 640, 384, 3]);
    expect([image!.width, image!.height]).toEqual([640, 384]);
  });

  it('renders image i of a batch exactly like seed + i rendered alone', async () => {
    const batch = await render(spec({ numImages: 3, seed: 1000 }));
    expect(batch.map((image) => [image.kind, image.index, image.seed])).toEqual([
      ['image', 0, 1000],
      ['image', 1, 1001],
      ['image', 2, 1002],
    ]);
    for (const image of batch) {
      const [alone] = await render(spec({ numImages: 1, seed: image.seed }));
      expect(image.data.equals(alone!.data)).toBe(true);
    }
    expect(batch[0]!.data.equals(batch[1]!.data)).toBe(false);
  });

  it('wraps batch seeds at 2^32', async () => {
    const batch = await render(spec({ numImages: 2, seed: 0xffff_ffff, width: 64, height: 64 }));
    expect(batch.map((image) => image.seed)).toEqual([0xffff_ffff, 0]);
  });

  it('reports one increasing progress event per step across the batch', async () => {
    const events: Progress[] = [];
    await render(spec({ steps: 7, numImages: 3, width: 128, height: 128 }), (p) => events.push(p));
    expect(events).toEqual(Array.from({ length: 21 }, (_, i) => ({ step: i + 1, totalSteps: 21 })));
  });

  it('rejects with CanceledError when the signal aborts mid-run, and stops stepping', async () => {
    const controller = new AbortController();
    const events: Progress[] = [];
    const run = render(spec({ steps: 20, numImages: 2 }), (p) => {
      events.push(p);
      if (p.step === 5) controller.abort();
    }, controller.signal);
    await expect(run).rejects.toBeInstanceOf(CanceledError);
    expect(events).toHaveLength(5);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const events: Progress[] = [];
    await expect(render(spec(), (p) => events.push(p), controller.signal)).rejects.toBeInstanceOf(CanceledError);
    expect(events).toHaveLength(0);
  });

  it('refuses specs outside its capabilities as unrecoverable', async () => {
    await expect(render(spec({ sampler: 'LMS' }))).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(render(spec({ mode: 'i2i' }))).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'invalid_parameter' }); // no reference
    await expect(render(spec({ mode: 't2v', width: 511, height: 512 }))).rejects.toMatchObject({ code: 'capability_unsupported' });
    await expect(render(spec({ width: 4096 }))).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('renders 1024×1024 at 30 steps', async () => {
    const [image] = await render(spec({ width: 1024, height: 1024, steps: 30 }));
    const meta = await sharp(image!.data).metadata();
    expect([meta.width, meta.height]).toEqual([1024, 1024]);
  });

  it('stamps the PREVIEW mark in the bottom-right corner: white letters on a dark box', async () => {
    const [image] = await render(spec({ width: 512, height: 384 }));
    const { data } = await decode(image!.data);
    const box = previewMarkBox(512, 384);
    let ink = 0;
    for (let y = box.top; y < box.top + box.height; y += 1) {
      for (let x = box.left; x < box.left + box.width; x += 1) {
        const px = [...data.subarray((y * 512 + x) * 3, (y * 512 + x) * 3 + 3)];
        // Ink is 90% white (≥ 230 over anything); the box keeps 40% of what is under it (≤ 102).
        if (px.every((c) => c >= 230)) ink += 1;
        else expect(Math.max(...px), `pixel ${x},${y}`).toBeLessThanOrEqual(102);
      }
    }
    expect(ink).toBe(111); // the letter cells of PREVIEW at one font pixel per pixel
  });

  describe('hires fix', () => {
    const W = 512;
    const H = 384;
    /** Raw RGB with the bottom-right corner (where the marks are) blacked out, to compare pictures. */
    const picture = async (png: Buffer, width = W, height = H) => {
      const rgb = await sharp(png).resize(W, H, { kernel: 'cubic' }).raw().toBuffer();
      const box = previewMarkBox(width, height);
      const [left, top] = [Math.floor((box.left * W) / width) - 8, Math.floor((box.top * H) / height) - 8];
      for (let y = top; y < H; y += 1) rgb.fill(0, (y * W + left) * 3, (y + 1) * W * 3);
      return rgb;
    };

    it('runs a second pass: twice the steps, reported as one progress run over the batch', async () => {
      const events: Progress[] = [];
      await render(spec({ hiresFix: true, steps: 5, numImages: 2, width: 256, height: 192 }), (p) => events.push(p));
      expect(events).toEqual(Array.from({ length: 20 }, (_, i) => ({ step: i + 1, totalSteps: 20 })));
    });

    it('refines the upscaled first pass toward the full-size picture, byte-identically on a re-run', async () => {
      const [hires] = await render(spec({ hiresFix: true, width: W, height: H, steps: 12 }));
      const [again] = await render(spec({ hiresFix: true, width: W, height: H, steps: 12 }));
      const [plain] = await render(spec({ width: W, height: H, steps: 12 }));
      // The first pass alone: the same picture at half the size, upscaled.
      const [half] = await render(spec({ width: W / 2, height: H / 2, steps: 12 }));
      expect(hires!.data.equals(again!.data)).toBe(true);
      expect(hires!.data.equals(plain!.data)).toBe(false);
      expect([hires!.width, hires!.height]).toEqual([W, H]);
      const full = await picture(plain!.data);
      const refined = psnr(await picture(hires!.data), full, W, H);
      const upscaled = psnr(await picture(half!.data, W / 2, H / 2), full, W, H);
      // The second pass restores the detail the upscale lost.
      expect(refined).toBeGreaterThan(upscaled + 10);
    });

    it('stops with CanceledError during the second pass', async () => {
      const controller = new AbortController();
      const events: Progress[] = [];
      const run = render(spec({ hiresFix: true, steps: 6, width: 256, height: 256 }), (p) => {
        events.push(p);
        if (p.step === 9) controller.abort();
      }, controller.signal);
      await expect(run).rejects.toBeInstanceOf(CanceledError);
      expect(events).toHaveLength(9);
    });

    it('is refused outside text-to-image', async () => {
      await expect(render(spec({ mode: 'i2i', hiresFix: true }))).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'capability_unsupported' });
    });
  });
});

