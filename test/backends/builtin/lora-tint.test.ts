import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { GeneratedVideo } from '../../../src/backends/backend.js';
import { createBuiltinBackend } from '../../../src/backends/builtin/builtin-backend.js';
import { UnrecoverableError } from '../../../src/errors/signals.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const spec = (overrides: Partial<JobSpec> = {}): JobSpec =>
  Object.freeze({
    mode: 't2i',
    model: 'preview',
    prompt: 'a grey stone wall',
    negativePrompt: undefined,
    width: 64,
    height: 64,
    steps: 4,
    cfgScale: 7,
    sampler: 'Euler',
    seed: 5,
    seedFixed: true,
    numImages: 1,
    hiresFix: false,
    priority: 0,
    ...overrides,
  });

async function pixels(s: JobSpec): Promise<Buffer> {
  const [output] = await createBuiltinBackend().generate(s, { signal: new AbortController().signal, onProgress: () => {} });
  if (output?.kind !== 'image') throw new Error('expected an image');
  return sharp(output.data).raw().toBuffer();
}

/** Mean absolute difference per channel value, 0–255. */
function distance(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('preview renderer: LoRAs', () => {
  it('tints the image a little per LoRA, the same way every time, and not at all at weight 0', async () => {
    const plain = await pixels(spec());
    const tinted = await pixels(spec({ loras: [{ name: 'film-grain', weight: 1 }] }));
    expect(tinted.equals(await pixels(spec({ loras: [{ name: 'film-grain', weight: 1 }] })))).toBe(true);
    expect(distance(plain, tinted)).toBeGreaterThan(1);
    // A nudge, not a repaint: the prompt still makes the picture.
    expect(distance(plain, tinted)).toBeLessThan(40);
    expect(distance(tinted, await pixels(spec({ loras: [{ name: 'film-grain', weight: -1 }] })))).toBeGreaterThan(1);
    expect(distance(tinted, await pixels(spec({ loras: [{ name: 'other', weight: 1 }] })))).toBeGreaterThan(0.5);
    expect((await pixels(spec({ loras: [{ name: 'film-grain', weight: 0 }] }))).equals(plain)).toBe(true);
  });

  it("applies a model's own LoRAs like requested ones", async () => {
    const requested = await pixels(spec({ loras: [{ name: 'film-grain', weight: 0.5 }] }));
    expect((await pixels(spec({ backendSettings: { loras: [{ name: 'film-grain', weight: 0.5 }] } }))).equals(requested)).toBe(true);
  });

  it("tints a text-to-video's scenes too, the same way every time", async () => {
    const tmp = await makeTempDir('atelier-lora-video-');
    let jobs = 0;
    const mp4 = async (s: JobSpec) => {
      const workDir = join(tmp.dir, `job-${(jobs += 1)}`);
      await mkdir(workDir);
      const [video] = await createBuiltinBackend().generate(s, { signal: new AbortController().signal, onProgress: () => {}, workDir });
      return readFile((video as GeneratedVideo).file);
    };
    try {
      const video = spec({ mode: 't2v', numFrames: 4, fps: 8 });
      const tinted = await mp4({ ...video, loras: [{ name: 'film-grain', weight: 1 }] });
      expect(tinted.equals(await mp4(video))).toBe(false);
      expect(tinted.equals(await mp4({ ...video, loras: [{ name: 'film-grain', weight: 1 }] }))).toBe(true);
    } finally {
      await tmp.remove();
    }
  });

  it('refuses a checkpoint, VAE or clip skip it has no way to honour', async () => {
    for (const backendSettings of [{ checkpoint: 'anime.safetensors' }, { vae: 'kl-f8.safetensors' }, { clipSkip: 2 }]) {
      await expect(pixels(spec({ backendSettings }))).rejects.toThrow(UnrecoverableError);
    }
    expect((await pixels(spec({ backendSettings: { clipSkip: 1 } }))).length).toBeGreaterThan(0);
  });
});
