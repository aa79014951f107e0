import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createA1111Backend } from '../../../src/backends/a1111/a1111-backend.js';
import { startFakeA1111, type FakeA1111 } from '../../helpers/fake-a1111.js';
import { makeSpec, runBackend } from '../../helpers/backend-spec.js';

let fake: FakeA1111;
const backend = (checkpoint?: string) =>
  createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 10_000 }, progressPollMs: 5, ...(checkpoint ? { checkpoint } : {}) });

beforeEach(async () => {
  fake = await startFakeA1111({ stepDelayMs: 1 });
});
afterEach(async () => fake?.close());

describe('a1111 backend: LoRAs and model settings', () => {
  it("appends the model's LoRAs then the request's to the prompt as <lora:name:weight>, and overrides checkpoint, VAE and clip skip", async () => {
    const spec = makeSpec({
      loras: [{ name: 'add_detail', weight: 0.6 }, { name: 'film grain', weight: -1 }],
      backendSettings: { checkpoint: 'sd_xl_base_1.0.safetensors', vae: 'sdxl_vae.safetensors', clipSkip: 2, loras: [{ name: 'house-style', weight: 0.8 }] },
    });
    await runBackend(backend('v1-5-pruned-emaonly.safetensors'), spec);
    const body = fake.generations()[0]?.body;
    expect(body?.prompt).toBe('a lighthouse at dusk <lora:house-style:0.8> <lora:add_detail:0.6> <lora:film grain:-1>');
    expect(body?.negative_prompt).toBe('blurry');
    expect(body?.override_settings).toEqual({ sd_model_checkpoint: 'sd_xl_base_1.0.safetensors', sd_vae: 'sdxl_vae.safetensors', CLIP_stop_at_last_layers: 2 });
    // The model's checkpoint, not the backend's, is the one rendered with.
    expect(fake.tasks()[0]?.checkpoint).toMatch(/^sd_xl_base_1\.0\.safetensors/);
  });

  it("sends the image-to-image prompt with its tags too, and the backend's checkpoint when the model sets none", async () => {
    const reference = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#446688' } }).png().toBuffer();
    await runBackend(backend('v1-5-pruned-emaonly.safetensors'), makeSpec({ mode: 'i2i', denoiseStrength: 0.5, loras: [{ name: 'add_detail', weight: 1 }] }), { reference });
    const request = fake.generations()[0];
    expect(request?.path).toBe('/sdapi/v1/img2img');
    expect(request?.body?.prompt).toBe('a lighthouse at dusk <lora:add_detail:1>');
    expect(request?.body?.override_settings).toEqual({ sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors' });
  });

  it('leaves the prompt and override_settings alone for a job with neither', async () => {
    await runBackend(backend(), makeSpec());
    const body = fake.generations()[0]?.body;
    expect(body?.prompt).toBe('a lighthouse at dusk');
    expect(body).not.toHaveProperty('override_settings');
  });
});
