import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import type { GeneratedImage } from '../../../src/backends/backend.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';
import { parseA1111Parameters } from '../../../src/media/image/a1111-parameters.js';
import { processGeneratedImage } from '../../../src/media/image/process-generated-image.js';
import { readPngTextChunks, withPngTextChunk } from '../../../src/media/image/png-text-chunk.js';
import { DEFAULT_PRESETS } from '../../../src/media/image/presets.js';
import { RetryableError } from '../../../src/errors/signals.js';

const preset = DEFAULT_PRESETS.find((p) => p.name === 'stable-diffusion')!;

const spec: JobSpec = Object.freeze({
  mode: 't2i',
  model: 'preview',
  prompt: 'a red fox in snow',
  negativePrompt: 'blurry',
  width: 640,
  height: 384,
  steps: 12,
  cfgScale: 6.5,
  sampler: 'Euler a',
  seed: 500,
  seedFixed: true,
  numImages: 2,
  hiresFix: false,
  priority: 0,
});

async function generated(index: number): Promise<GeneratedImage> {
  const data = await sharp({ create: { width: 640, height: 384, channels: 3, background: { r: 220, g: 90, b: 40 } } })
    .png()
    .toBuffer();
  return { kind: 'image', index, seed: spec.seed + index, width: 640, height: 384, data };
}

describe('processGeneratedImage', () => {
  it('embeds the A1111 parameters, thumbnails and describes the image', async () => {
    const image = await generated(1);
    const processed = await processGeneratedImage(image, spec, { modelLabel: 'Preview (built-in, no weights)', preset });

    const text = readPngTextChunks(processed.original)['parameters']!;
    expect(text).toBe(
      'a red fox in snow\nNegative prompt: blurry\n' +
        'Steps: 12, Sampler: Euler a, CFG scale: 6.5, Seed: 501, Size: 640x384, Model: preview, Model label: "Preview (built-in, no weights)"',
    );
    expect(parseA1111Parameters(text).settings['Model label']).toBe('Preview (built-in, no weights)');
    const original = await sharp(processed.original).metadata();
    expect([original.format, original.width, original.height]).toEqual(['png', 640, 384]);

    const thumb = await sharp(processed.thumbnail).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 256, 154]);
    expect([processed.thumbnailWidth, processed.thumbnailHeight]).toEqual([256, 154]);

    expect(processed.metadata).toEqual({
      width: 640,
      height: 384,
      format: 'png',
      steps: 12,
      guidance_scale: 6.5,
      seed: 501,
      file_size_bytes: processed.original.length,
      asset_index: 1,
      negative_prompt_used: true,
      sampler: 'Euler a',
      model: 'preview',
      processing: expect.objectContaining({ original_bytes: processed.original.length, variant_bytes: { normal: expect.any(Number), high: expect.any(Number) } }),
    });
    expect(processed.original.length).toBeGreaterThan(image.data.length);
    // stable-diffusion preset: normal fits 768² as JPEG, high fits 1536² as WebP; never enlarged.
    const variants = await Promise.all(processed.variants.map(async (v) => ({ name: v.name, ...(await sharp(v.data).metadata()) })));
    expect(variants.map((v) => [v.name, v.format, v.width, v.height])).toEqual([
      ['normal', 'jpeg', 640, 384],
      ['high', 'webp', 640, 384],
    ]);
  });

  it('reports no negative prompt and adds no label when none are given', async () => {
    const processed = await processGeneratedImage(await generated(0), { ...spec, negativePrompt: undefined }, { preset });
    expect(processed.metadata.negative_prompt_used).toBe(false);
    expect(processed.metadata.seed).toBe(500);
    expect(readPngTextChunks(processed.original)['parameters']).toBe(
      'a red fox in snow\nSteps: 12, Sampler: Euler a, CFG scale: 6.5, Seed: 500, Size: 640x384, Model: preview',
    );
  });

  it("records the applied LoRAs and the model's backend settings in the metadata and the PNG parameters", async () => {
    const withSettings: JobSpec = {
      ...spec,
      loras: [{ name: 'film-grain', weight: 0.5 }],
      backendSettings: { checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clipSkip: 2, loras: [{ name: 'style', weight: 0.8 }] },
    };
    const processed = await processGeneratedImage(await generated(0), withSettings, { preset });
    expect(processed.metadata).toMatchObject({
      loras: [{ name: 'style', weight: 0.8 }, { name: 'film-grain', weight: 0.5 }],
      backend_settings: { checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clip_skip: 2 },
    });
    expect(parseA1111Parameters(readPngTextChunks(processed.original)['parameters']!).prompt).toBe('a red fox in snow <lora:style:0.8> <lora:film-grain:0.5>');
    const plain = await processGeneratedImage(await generated(0), spec, { preset });
    expect(plain.metadata).not.toHaveProperty('loras');
    expect(plain.metadata).not.toHaveProperty('backend_settings');
  });

  it('reads the size from the header and refuses output that does not decode as a retryable backend failure', async () => {
    const good = await generated(0);
    const processed = await processGeneratedImage({ ...good, width: 1, height: 1 }, spec, { preset });
    expect([processed.metadata.width, processed.metadata.height]).toEqual([640, 384]);
    const truncated = Buffer.concat([good.data.subarray(0, 40), Buffer.alloc(64, 7)]);
    const error = await processGeneratedImage({ ...good, data: truncated }, spec, { preset }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed' });
  });
  it('drops every metadata chunk the backend wrote and keeps exactly one parameters record, Atelier\'s', async () => {
    const image = await generated(0);
    // What ComfyUI's SaveImage writes (the API graph, checkpoint and LoRA names included), and A1111's own record.
    let foreign = withPngTextChunk(image.data, 'prompt', JSON.stringify({ 4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'secret-model.safetensors' } } }));
    foreign = withPngTextChunk(foreign, 'workflow', '{"nodes": []}');
    foreign = withPngTextChunk(foreign, 'parameters', 'their prompt\nSteps: 99, Sampler: DDIM, Seed: 1');
    foreign = withPngTextChunk(foreign, 'Comment', 'caf\u00e9 <lora:private-lora:1>');
    const processed = await processGeneratedImage({ ...image, data: foreign }, spec, { preset });

    const texts = readPngTextChunks(processed.original);
    expect(Object.keys(texts)).toEqual(['parameters']);
    const parsed = parseA1111Parameters(texts.parameters!);
    expect(parsed.prompt).toBe(spec.prompt);
    expect(parsed.settings).toMatchObject({ Steps: '12', Seed: '500' });
    const bytes = processed.original.toString('latin1');
    for (const leaked of ['secret-model', 'private-lora', 'their prompt', 'workflow']) expect(bytes).not.toContain(leaked);
    // The pixels are the backend's, untouched.
    expect((await sharp(processed.original).raw().toBuffer()).equals(await sharp(image.data).raw().toBuffer())).toBe(true);
  });
});
