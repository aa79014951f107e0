import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngTextChunks } from '../../src/media/image/png-text-chunk.js';
import { parseA1111Parameters } from '../../src/media/image/a1111-parameters.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { defaultModels, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** A preview model that declares two LoRAs and brings one of its own. */
const LORA_MODEL = {
  name: 'preview-lora',
  backend: 'builtin',
  label: 'Preview with LoRAs',
  modes: ['t2i', 'i2i'],
  baseResolution: 512,
  defaultSteps: 4,
  defaultCfgScale: 7,
  defaultSampler: 'Euler',
  loras: ['detail', 'film-grain'],
  backendSettings: { loras: [{ name: 'house-style', weight: 0.5 }] },
  pricing: { lora: 0.25 },
};

describe('loras on the generation API', () => {
  let t: InjectServer;
  let api: ApiClient;
  let cleanup: () => Promise<void>;
  const base = { prompt: 'a harbour at noon', model: LORA_MODEL.name, width: 128, height: 128, steps: 4, cfg_scale: 7, seed: 11 };

  beforeAll(async () => {
    const tmp = await makeTempDir('atelier-loras-config-');
    cleanup = tmp.remove;
    const video = { name: 'preview-lora-t2v', backend: 'builtin', label: 'Preview video with LoRAs', modes: ['t2v'], baseResolution: 256, defaultSteps: 2, defaultCfgScale: 5, defaultSampler: 'Euler', defaultFrames: 4, defaultFps: 8, loras: ['detail'] };
    const file = await writeConfigFile(tmp.dir, { models: [...defaultModels(), LORA_MODEL, video] });
    // The cache on, so a lookup shows whether two requests would share an entry.
    t = await startInjectServer({ ATELIER_CONFIG: file, CACHE_DEFAULT_MODE: 'seed-aware' });
    api = apiClient(t, (await t.addUser('lena')).token);
  });
  afterAll(async () => {
    await t?.close();
    await cleanup?.();
  });

  async function refused(body: Record<string, unknown>): Promise<{ code: string; field: string; message: string; available?: string[] }> {
    const res = await api.post('/api/generate/text-to-image', { ...base, ...body });
    expect(res.status, res.text).toBe(422);
    return res.body;
  }

  it('refuses a LoRA the model does not declare, naming the ones it allows', async () => {
    expect(await refused({ loras: [{ name: 'detail', weight: 0.5 }, { name: 'house-style', weight: 1 }] })).toMatchObject({
      code: 'invalid_parameter',
      field: 'loras[1].name',
      message: "Expected one of detail, film-grain for loras[1].name of model 'preview-lora' but received 'house-style'",
      available: ['detail', 'film-grain'],
    });
  });

  it('refuses any LoRA for a model that declares none', async () => {
    expect(await refused({ model: 'preview', loras: [{ name: 'detail', weight: 1 }] })).toMatchObject({ code: 'invalid_parameter', field: 'loras' });
  });

  it.each([4.5, -4.01])('refuses weight %s (outside −4…4)', async (weight) => {
    expect(await refused({ loras: [{ name: 'detail', weight }] })).toMatchObject({ code: 'invalid_parameter', field: 'loras[0].weight' });
  });

  it('refuses a LoRA named twice, more than 8, a missing name and unknown fields', async () => {
    expect(await refused({ loras: [{ name: 'detail' }, { name: 'detail', weight: 0.2 }] })).toMatchObject({ field: 'loras[1].name' });
    expect(await refused({ loras: Array.from({ length: 9 }, () => ({ name: 'detail' })) })).toMatchObject({ code: 'invalid_parameter', field: 'loras' });
    expect(await refused({ loras: [{ weight: 1 }] })).toMatchObject({ code: 'invalid_parameter', field: 'loras[0].name' });
    expect(await refused({ loras: [{ name: 'detail', strength: 1 }] })).toMatchObject({ code: 'unknown_field', field: 'loras[0].strength' });
  });

  it('lists the LoRAs each model allows in GET /api/models', async () => {
    const { models } = (await api.get('/api/models')).body;
    expect(models.find((m: any) => m.name === LORA_MODEL.name).loras).toEqual(['detail', 'film-grain']);
    expect(models.find((m: any) => m.name === 'preview').loras).toEqual([]);
  });

  it("runs a job with LoRAs: the request's in its parameters, all applied ones in the asset and its PNG, each charged", async () => {
    const res = await api.post('/api/generate/text-to-image', { ...base, loras: [{ name: 'film-grain', weight: 0.75 }, { name: 'detail' }] });
    expect(res.status, res.text).toBe(202);
    const done = await api.waitFor(res.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.parameters.loras).toEqual([{ name: 'film-grain', weight: 0.75 }, { name: 'detail', weight: 1 }]);
    const applied = [{ name: 'house-style', weight: 0.5 }, { name: 'film-grain', weight: 0.75 }, { name: 'detail', weight: 1 }];
    expect(done.assets[0].metadata.loras).toEqual(applied);
    // The model's own LoRA is in its price; the request's two are charged at its pricing.lora.
    expect(done.cost.breakdown.loras).toBe(0.5);
    const png = (await api.download(done.assets[0].url)).bytes;
    expect(parseA1111Parameters(readPngTextChunks(png)['parameters']!).prompt).toBe('a harbour at noon <lora:house-style:0.5> <lora:film-grain:0.75> <lora:detail:1>');
  });

  it("records a video's LoRAs in its asset metadata too", async () => {
    const res = await api.post('/api/generate/text-to-video', { prompt: 'a river', model: 'preview-lora-t2v', width: 64, height: 64, num_frames: 4, fps: 8, seed: 2, loras: [{ name: 'detail', weight: 0.5 }] });
    expect(res.status, res.text).toBe(202);
    const done = await api.waitFor(res.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.assets[0].metadata).toMatchObject({ format: 'mp4', loras: [{ name: 'detail', weight: 0.5 }] });
    expect(done.parameters.loras).toEqual([{ name: 'detail', weight: 0.5 }]);
  });

  it('tints the preview by its LoRAs, deterministically', async () => {
    // Pixels, not file bytes: the PNG's parameters text names the model and the LoRAs.
    const render = async (extra: Record<string, unknown>) => {
      const done = await api.generate({ ...base, prompt: 'a tinted field', cache_mode: 'off', ...extra });
      return sharp((await api.download(done.assets[0].url)).bytes).raw().toBuffer();
    };
    const untinted = await render({ model: 'preview' });
    const modelsOwn = await render({});
    const withLora = await render({ loras: [{ name: 'detail', weight: 2 }] });
    expect(modelsOwn.equals(untinted)).toBe(false);
    expect(withLora.equals(modelsOwn)).toBe(false);
    expect(withLora.equals(await render({ loras: [{ name: 'detail', weight: 2 }] }))).toBe(true);
    // A weight-0 LoRA is no LoRA.
    expect((await render({ loras: [{ name: 'detail', weight: 0 }] })).equals(modelsOwn)).toBe(true);
  });

  it('does not let two requests differing only in their LoRAs share a cache entry', async () => {
    const parameters = { ...base, prompt: 'a cached harbour', loras: [{ name: 'detail', weight: 0.5 }] };
    await api.generate(parameters);
    const lookup = (body: Record<string, unknown>) => api.post('/api/cache/lookup', { kind: 'text-to-image', parameters: body });
    expect((await lookup(parameters)).body).toMatchObject({ hit: true });
    expect((await lookup({ ...parameters, loras: [{ name: 'detail', weight: 0.6 }] })).body).toMatchObject({ hit: false });
    expect((await lookup({ ...parameters, loras: [{ name: 'film-grain', weight: 0.5 }] })).body).toMatchObject({ hit: false });
    expect((await lookup({ ...parameters, loras: undefined })).body).toMatchObject({ hit: false });
  });

  it('estimates the per-LoRA charge from lora_count', async () => {
    const estimate = (extra: Record<string, unknown>) => api.post('/api/estimate', { model: LORA_MODEL.name, width: 512, height: 512, steps: 20, ...extra });
    expect((await estimate({})).body.breakdown).not.toHaveProperty('loras');
    const res = await estimate({ lora_count: 2 });
    expect(res.body.breakdown.loras).toBe(0.5);
    expect(res.body.amount).toBeCloseTo((await estimate({})).body.amount + 0.5, 4);
  });
});
