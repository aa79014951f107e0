import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backends/backend.js';
import { CanceledError } from '../../../src/errors/signals.js';
import { fakeColour } from '../../helpers/fake-comfyui/fake-media.js';
import { startFakeComfyUI, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';
import { backendFor, images, recorder, settlesWithin, spec } from './fixtures.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function centreColour(png: Buffer): Promise<number[]> {
  const { channels } = await sharp(png).stats();
  return channels.slice(0, 3).map((c) => Math.round(c.mean));
}

describe('ComfyUI backend against a fake ComfyUI', () => {
  let fake: FakeComfyUI;
  let backend: Backend;
  beforeEach(async () => {
    fake = await startFakeComfyUI();
    backend = backendFor(fake.url, { checkpoint: 'sdxl_base.safetensors', clientId: 'atelier-test' });
  });
  afterEach(async () => {
    await backend.close?.();
    await fake.close();
  });

  it('declares its capabilities', () => {
    expect(backend.kind).toBe('comfyui');
    expect(backend.capabilities).toMatchObject({ modes: ['t2i', 'i2i'], samplers: ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDIM'], cancel: true, preview: true });
  });

  it('binds every text-to-image parameter into the graph it queues', async () => {
    const prompt = 'a "quoted" lighthouse {at} dusk"}\nsecond line';
    const { ctx } = recorder();
    await backend.generate(spec({ prompt, negativePrompt: 'blurry, "text"', seed: 1234, steps: 7, cfgScale: 5.5, sampler: 'DPM++ 2M Karras', width: 96, height: 64, numImages: 2 }), ctx);
    // One prompt per image, each with its own seed: ComfyUI draws a batch from one generator,
    // so only this way does image 1 re-run exactly as a job with seed 1235.
    expect(fake.prompts).toHaveLength(2);
    for (const [i, { prompt: graph, prompt_id, client_id }] of fake.prompts.entries()) {
      expect(prompt_id).toMatch(UUID_V4);
      expect(client_id).toBe('atelier-test');
      expect(graph['6']!.inputs?.text).toBe(prompt);
      expect(graph['7']!.inputs?.text).toBe('blurry, "text"');
      expect(graph['3']!.inputs).toMatchObject({ seed: 1234 + i, steps: 7, cfg: 5.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1 });
      expect(graph['5']!.inputs).toMatchObject({ width: 96, height: 64, batch_size: 1 });
      expect(graph['4']!.inputs?.ckpt_name).toBe('sdxl_base.safetensors');
    }
    expect(new Set(fake.prompts.map((p) => p.prompt_id)).size).toBe(2);
  });

  it('sends an empty negative prompt rather than the template text', async () => {
    await backend.generate(spec(), recorder().ctx);
    expect(fake.prompts[0]!.prompt['7']!.inputs?.text).toBe('');
  });

  it('returns PNGs of the requested size whose pixels show the bound seed, with seed + index', async () => {
    const outputs = images(await backend.generate(spec({ seed: 99, width: 80, height: 56, numImages: 3 }), recorder().ctx));
    expect(outputs.map((o) => [o.index, o.seed])).toEqual([[0, 99], [1, 100], [2, 101]]);
    for (const output of outputs) {
      const meta = await sharp(output.data).metadata();
      expect([meta.format, meta.width, meta.height, output.width, output.height]).toEqual(['png', 80, 56, 80, 56]);
      // Image i is image 0 of its own prompt, bound with seed + i.
      expect(await centreColour(output.data)).toEqual(fakeColour(99 + output.index, 0));
      // The adapter hands SaveImage's bytes on as they are (post-processing strips the chunk).
      const { comments } = await sharp(output.data).metadata();
      expect(JSON.parse(comments!.find((c) => c.keyword === 'prompt')!.text)).toEqual(fake.prompts[output.index]!.prompt);
    }
  });

  it('reports monotonic progress ending at steps, and at least one JPEG preview', async () => {
    const { ctx, progress, previews } = recorder();
    await backend.generate(spec({ steps: 9 }), ctx);
    const steps = progress.map((p) => p.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ step: 9, totalSteps: 9 });
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(previews[0]!.mime).toBe('image/jpeg');
    expect((await sharp(previews[0]!.data).metadata()).format).toBe('jpeg');
  });

  it('runs image-to-image: uploads the cropped reference, binds its name and the denoise', async () => {
    const reference = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#3366cc' } }).png().toBuffer();
    const { ctx, progress } = recorder();
    const outputs = images(await backend.generate(spec({ mode: 'i2i', denoiseStrength: 0.35, width: 64, height: 64, numImages: 2, seed: 5 }), { ...ctx, inputs: { reference } }));
    expect(fake.uploads).toHaveLength(1); // the same cropped reference serves both prompts
    const [upload] = fake.uploads as [(typeof fake.uploads)[number]];
    expect(upload).toMatchObject({ type: 'input', overwrite: 'true' });
    expect(await sharp(upload.data).metadata()).toMatchObject({ width: 64, height: 64, format: 'png' });
    // The img2img template has no batch_size: one prompt per image, seed + i.
    expect(fake.prompts.map((p) => [p.prompt['10']!.inputs?.image, p.prompt['3']!.inputs?.denoise, p.prompt['3']!.inputs?.seed])).toEqual([
      [upload.name, 0.35, 5],
      [upload.name, 0.35, 6],
    ]);
    expect(outputs.map((o) => [o.index, o.seed, o.width, o.height])).toEqual([[0, 5, 64, 64], [1, 6, 64, 64]]);
    expect(progress.at(-1)).toEqual({ step: 12, totalSteps: 12 });
    expect(progress.map((p) => p.step)).toEqual([...Array(12).keys()].map((i) => i + 1));
  });

  it('cancels mid-job: interrupts its prompt_id and rejects with CanceledError', async () => {
    const { ctx, controller, progress } = recorder();
    const job = backend.generate(spec({ steps: 100 }), ctx);
    await expect.poll(() => progress.length).toBeGreaterThan(2);
    controller.abort();
    const { error, elapsed } = await settlesWithin(job, 5_000);
    expect(error).toBeInstanceOf(CanceledError);
    expect(elapsed).toBeLessThan(2_000); // promptly, not at the 3 s generation timeout
    // It was running, so it is interrupted, by id; there is nothing to delete from the queue.
    expect(fake.interrupts).toEqual([{ prompt_id: fake.prompts[0]!.prompt_id }]);
    expect(fake.queueDeletes).toEqual([]);
  });

  it('runs jobs one after another on the one socket', async () => {
    await backend.generate(spec({ seed: 1 }), recorder().ctx);
    await backend.generate(spec({ seed: 2 }), recorder().ctx);
    expect(fake.connections()).toBe(1);
  });

  it('is healthy while ComfyUI answers and unhealthy once it is gone', async () => {
    expect(await backend.health!()).toBe(true);
    await fake.close();
    expect(await backend.health!()).toBe(false);
    fake = await startFakeComfyUI(); // for afterEach
  });
});
