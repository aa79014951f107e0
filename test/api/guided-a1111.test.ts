import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startFakeA1111, type FakeA1111 } from '../helpers/fake-a1111.js';
import { defaultModels, uploadBytes, writeConfigFile } from '../helpers/server-extras.js';
import { scenePng } from '../helpers/synthetic-images.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** ControlNet on AUTOMATIC1111 through the ControlNet extension's alwayson_scripts. */
describe('ControlNet on an AUTOMATIC1111 backend', () => {
  let a1111: FakeA1111;
  let t: InjectServer;
  let api: ApiClient;
  let cleanup: () => Promise<void>;
  let control: Buffer;
  let controlUpload: string;
  const base = { baseResolution: 512, defaultSteps: 4, defaultCfgScale: 7, defaultSampler: 'Euler' };

  beforeAll(async () => {
    a1111 = await startFakeA1111({ stepDelayMs: 2 });
    const tmp = await makeTempDir('atelier-a1111-cn-');
    cleanup = tmp.remove;
    const file = await writeConfigFile(tmp.dir, {
      backends: {
        builtin: { type: 'builtin' },
        forge: { type: 'a1111', urls: [a1111.url], healthIntervalSeconds: 600 },
        forgeDepth: { type: 'a1111', urls: [a1111.url], healthIntervalSeconds: 600, controlnetModels: { depth: 'diffusers_xl_depth_full' } },
      },
      models: [
        ...defaultModels(),
        { name: 'sd15-forge', backend: 'forge', label: 'SD 1.5 on Forge', modes: ['t2i', 'i2i'], ...base },
        { name: 'sdxl-depth', backend: 'forgeDepth', label: 'SDXL with depth', modes: ['t2i'], ...base },
      ],
    });
    t = await startInjectServer({ ATELIER_CONFIG: file });
    api = apiClient(t, t.adminToken);
    control = await scenePng(5, 200, 150);
    controlUpload = await uploadBytes(t, t.adminToken, control, 'control.png');
  });
  afterAll(async () => {
    await t?.close();
    await a1111?.close();
    await cleanup?.();
  });

  it('advertises the configured control types', async () => {
    const { models } = (await api.get('/api/models')).body;
    expect(models.find((m: any) => m.name === 'sd15-forge').capabilities).toEqual({ controlnet: ['canny', 'depth', 'pose', 'scribble', 'lineart'], guidanceImages: 0, hiresFix: true });
    expect(models.find((m: any) => m.name === 'sdxl-depth').capabilities).toEqual({ controlnet: ['depth'], guidanceImages: 0, hiresFix: true });
  });

  it('sends each unit with its image, module, model, weight and schedule window', async () => {
    const run = await api.generate({
      model: 'sd15-forge',
      prompt: 'a lighthouse',
      width: 512,
      height: 512,
      steps: 4,
      seed: 3,
      controlnet: [
        { image: { upload_id: controlUpload }, type: 'canny', weight: 0.8, start: 0.1 },
        { image: { upload_id: controlUpload }, type: 'pose', weight: 1.2, end: 0.6 },
      ],
    });
    expect(run.status).toBe('succeeded');
    const body = a1111.generations().at(-1)!.body!;
    const args = (body.alwayson_scripts as any).controlnet.args;
    expect(args).toHaveLength(2);
    expect(args[0]).toMatchObject({ enabled: true, module: 'canny', model: 'control_v11p_sd15_canny', weight: 0.8, guidance_start: 0.1, guidance_end: 1, resize_mode: 'Crop and Resize', save_detected_map: false });
    expect(args[1]).toMatchObject({ module: 'openpose', model: 'control_v11p_sd15_openpose', weight: 1.2, guidance_start: 0, guidance_end: 0.6 });
    expect(Buffer.from(args[0].image, 'base64').equals(control)).toBe(true);
    // The batch's images only: one asset, not the detected maps.
    expect(run.assets).toHaveLength(1);
  });

  it('sends no alwayson_scripts for a plain request, and configured models by type', async () => {
    await api.generate({ model: 'sd15-forge', prompt: 'plain', width: 512, height: 512, steps: 2, seed: 1 });
    expect(a1111.generations().at(-1)!.body!.alwayson_scripts).toBeUndefined();
    await api.generate({ model: 'sdxl-depth', prompt: 'deep', width: 512, height: 512, steps: 2, seed: 1, controlnet: [{ image: { upload_id: controlUpload }, type: 'depth' }] });
    expect((a1111.generations().at(-1)!.body!.alwayson_scripts as any).controlnet.args[0]).toMatchObject({ module: 'depth_midas', model: 'diffusers_xl_depth_full', weight: 1 });
  });

  it('refuses types and guidance images the backend does not take, before reaching it', async () => {
    const before = a1111.generations().length;
    const canny = await api.post('/api/generate/text-to-image', { model: 'sdxl-depth', prompt: 'x', controlnet: [{ image: { upload_id: controlUpload }, type: 'canny' }] });
    expect(canny.body).toMatchObject({ code: 'conditioning_unsupported', field: 'controlnet[0].type' });
    const guided = await api.post('/api/generate/text-to-image', { model: 'sd15-forge', prompt: 'x', guidance_images: [{ upload_id: controlUpload }] });
    expect(guided.status).toBe(422);
    expect(guided.body.code).toBe('conditioning_unsupported');
    expect(a1111.generations().length).toBe(before);
  });
});
