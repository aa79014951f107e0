import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { defaultModels, uploadBytes, writeConfigFile } from '../helpers/server-extras.js';
import { solidPng } from '../helpers/synthetic-images.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const W = 256;
const H = 256;

/** A black control image with a white vertical bar: strong edges at x = 96 and x = 160. */
function barPng(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#000"/><rect x="96" y="0" width="64" height="${H}" fill="#fff"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function rawRgb(png: Buffer): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}

/** Mean luma of the columns [x0, x1) of a W×H RGB image. */
function columnLuma(rgb: Buffer, x0: number, x1: number): number {
  let sum = 0;
  for (let y = 0; y < H; y += 1) for (let x = x0; x < x1; x += 1) {
    const o = (y * W + x) * 3;
    sum += 0.299 * rgb[o]! + 0.587 * rgb[o + 1]! + 0.114 * rgb[o + 2]!;
  }
  return sum / (H * (x1 - x0));
}

function channelMean(rgb: Buffer, channel: number): number {
  let sum = 0;
  for (let i = channel; i < rgb.length; i += 3) sum += rgb[i]!;
  return sum / (rgb.length / 3);
}

describe('guided generation: guidance_images and controlnet', () => {
  let t: InjectServer;
  let api: ApiClient;
  let token: string;
  let barUpload: string;
  let redUpload: string;
  let cleanup: () => Promise<void>;
  const base = { prompt: 'a calm lake at dawn', width: W, height: H, steps: 6, seed: 31 };

  beforeAll(async () => {
    const tmp = await makeTempDir('atelier-guided-config-');
    cleanup = tmp.remove;
    const file = await writeConfigFile(tmp.dir, {
      backends: {
        builtin: { type: 'builtin' },
        // Never contacted: requests it cannot serve are refused before queueing.
        comfy: { type: 'comfyui', urls: ['http://127.0.0.1:9'], healthIntervalSeconds: 600 },
      },
      models: [...defaultModels(), { name: 'sd15-comfy', backend: 'comfy', label: 'SD 1.5', modes: ['t2i', 'i2i'], baseResolution: 512, defaultSteps: 6, defaultCfgScale: 7, defaultSampler: 'Euler' }],
    });
    t = await startInjectServer({ ATELIER_CONFIG: file });
    token = (await t.addUser('gina')).token;
    api = apiClient(t, token);
    barUpload = await uploadBytes(t, token, await barPng(), 'bar.png');
    redUpload = await uploadBytes(t, token, await solidPng(64, 64, [230, 20, 20]), 'red.png');
  });
  afterAll(async () => {
    await t?.close();
    await cleanup?.();
  });

  async function render(extra: Record<string, unknown>, path = '/api/generate/text-to-image') {
    const res = await api.post(path, { ...base, ...extra });
    expect(res.status, res.text).toBe(202);
    const done = await api.waitFor(res.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    return { submitted: res.body, done, rgb: await rawRgb((await api.download(done.assets[0].url)).bytes) };
  }

  it('lists each model’s capabilities in GET /api/models', async () => {
    const { models } = (await api.get('/api/models')).body;
    const preview = models.find((m: any) => m.name === 'preview');
    expect(preview.capabilities).toEqual({ controlnet: ['canny', 'depth', 'pose', 'scribble', 'lineart'], guidanceImages: 4, hiresFix: true });
    expect(models.find((m: any) => m.name === 'sd15-comfy').capabilities).toEqual({ controlnet: [], guidanceImages: 0, hiresFix: false });
  });

  it('draws the control image’s edges into the picture; weight 0 changes nothing', async () => {
    const plain = await render({});
    const zero = await render({ controlnet: [{ image: { upload_id: barUpload }, type: 'canny', weight: 0 }] });
    expect(zero.rgb.equals(plain.rgb)).toBe(true);

    const guided = await render({ controlnet: [{ image: { upload_id: barUpload }, type: 'canny', weight: 1.5 }] });
    expect(guided.rgb.equals(plain.rgb)).toBe(false);
    // Darker along the bar's edges (x ≈ 96 and 160), about unchanged far from them.
    const edgeDrop = columnLuma(plain.rgb, 92, 100) - columnLuma(guided.rgb, 92, 100);
    const farDrop = Math.abs(columnLuma(plain.rgb, 20, 60) - columnLuma(guided.rgb, 20, 60));
    expect(edgeDrop).toBeGreaterThan(20);
    expect(farDrop).toBeLessThan(5);

    expect(guided.done.parameters.controlnet).toEqual([
      { type: 'canny', weight: 1.5, start: 0, end: 1, image: expect.objectContaining({ uploadId: barUpload, format: 'png', width: W, height: H }) },
    ]);
    expect(guided.done.assets[0].metadata.controlnet).toEqual([{ type: 'canny', weight: 1.5, start: 0, end: 1 }]);
  });

  it('depth control sets light and shade from the control image’s luminance', async () => {
    const plain = await render({});
    const depth = await render({ controlnet: [{ image: { upload_id: barUpload }, type: 'depth', weight: 1 }] });
    const inside = columnLuma(depth.rgb, 110, 146) - columnLuma(plain.rgb, 110, 146);
    const outside = columnLuma(depth.rgb, 20, 60) - columnLuma(plain.rgb, 20, 60);
    expect(inside - outside).toBeGreaterThan(40);
  });

  it('guidance images pull the palette toward theirs, in image-to-image too', async () => {
    const plain = await render({});
    const guided = await render({ guidance_images: [{ upload_id: redUpload }] });
    expect(channelMean(guided.rgb, 0) - channelMean(plain.rgb, 0)).toBeGreaterThan(30);
    expect(channelMean(plain.rgb, 2) - channelMean(guided.rgb, 2)).toBeGreaterThan(10);
    expect(guided.done.parameters.guidanceImages).toEqual([expect.objectContaining({ uploadId: redUpload })]);
    expect(guided.done.assets[0].metadata.guidance_images).toBe(1);

    const i2i = await render({ reference_image: { upload_id: barUpload }, denoise_strength: 1, guidance_images: [{ upload_id: redUpload }] }, '/api/generate/image-to-image');
    const i2iPlain = await render({ reference_image: { upload_id: barUpload }, denoise_strength: 1 }, '/api/generate/image-to-image');
    expect(channelMean(i2i.rgb, 0) - channelMean(i2iPlain.rgb, 0)).toBeGreaterThan(20);
  });

  it('holds its own copies of the inputs under job-inputs/ before queueing', async () => {
    const { submitted } = await render({ guidance_images: [{ upload_id: redUpload }], controlnet: [{ image: { upload_id: barUpload }, type: 'lineart' }] });
    const me = (await api.get('/api/me')).body;
    const dir = join(t.dataDir, 'media', 'job-inputs', me.id, submitted.runId);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['controlnet-0.png', 'guidance-0.png']);
    expect((await stat(join(dir, 'guidance-0.png'))).size).toBeGreaterThan(0);
  });

  it('prices ControlNet units and guidance images, and /api/estimate agrees with the job', async () => {
    const { done } = await render({ guidance_images: [{ upload_id: redUpload }, { upload_id: redUpload }], controlnet: [{ image: { upload_id: barUpload }, type: 'scribble', weight: 0.5 }] });
    expect(done.cost.breakdown.controlnet).toBeGreaterThan(0);
    expect(done.cost.breakdown.guidanceImages).toBeGreaterThan(0);
    const estimate = await api.post('/api/estimate', { model: 'preview', mode: 't2i', width: W, height: H, steps: 6, controlnet_count: 1, guidance_image_count: 2 });
    expect(estimate.status, estimate.text).toBe(200);
    expect(estimate.body).toEqual(done.cost);
  });

  it('refuses what the model cannot do with conditioning_unsupported, before queueing', async () => {
    const cn = await api.post('/api/generate/text-to-image', { ...base, model: 'sd15-comfy', controlnet: [{ image: { upload_id: barUpload }, type: 'canny' }] });
    expect(cn.status).toBe(422);
    expect(cn.body).toMatchObject({ code: 'conditioning_unsupported', field: 'controlnet[0].type' });
    const gi = await api.post('/api/generate/text-to-image', { ...base, model: 'sd15-comfy', guidance_images: [{ upload_id: redUpload }] });
    expect(gi.status).toBe(422);
    expect(gi.body).toMatchObject({ code: 'conditioning_unsupported', field: 'guidance_images' });
  });

  it('validates shapes: type, weight range, unit count, start < end, unknown uploads', async () => {
    const post = (extra: Record<string, unknown>) => api.post('/api/generate/text-to-image', { ...base, ...extra });
    expect((await post({ controlnet: [{ image: { upload_id: barUpload }, type: 'openpose' }] })).status).toBe(422);
    expect((await post({ controlnet: [{ image: { upload_id: barUpload }, type: 'canny', weight: 2.5 }] })).status).toBe(422);
    const unit = { image: { upload_id: barUpload }, type: 'canny' };
    expect((await post({ controlnet: [unit, unit, unit] })).status).toBe(422);
    const window = await post({ controlnet: [{ ...unit, start: 0.8, end: 0.2 }] });
    expect(window.body).toMatchObject({ code: 'invalid_parameter', field: 'controlnet[0].start' });
    const missing = await post({ guidance_images: [{ upload_id: 'nope' }] });
    expect(missing.status).toBe(404);
    expect(missing.body.field).toBe('guidance_images[0]');
    const video = await api.post('/api/generate/text-to-video', { prompt: 'x', controlnet: [unit] });
    expect(video.status).toBe(422);
  });
});
