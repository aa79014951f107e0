import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { defaultModels, structuredPng, uploadBytes, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const BREAKDOWN_KEYS = ['base', 'pixelSteps', 'frames', 'controlnet', 'hiresFix', 'guidanceImages'];

/** The breakdown's line items add up to the amount (4 decimals). */
function expectConsistent(cost: any): void {
  expect(cost).not.toBeNull();
  expect(cost.amount).toBeGreaterThan(0);
  expect(typeof cost.currency).toBe('string');
  expect(Object.keys(cost.breakdown).sort()).toEqual([...BREAKDOWN_KEYS].sort());
  const sum = Object.values(cost.breakdown as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(sum).toBeCloseTo(cost.amount, 4);
}

describe('job cost estimates', () => {
  let t: InjectServer;
  let configDir: { dir: string; remove: () => Promise<void> };
  let api: ApiClient;
  let userToken: string;

  beforeAll(async () => {
    // preview is priced in USD by the config file; preview-free keeps the default pricing.
    configDir = await makeTempDir('atelier-cost-config-');
    const models = defaultModels();
    const preview = models.find((m) => m.name === 'preview')!;
    preview.pricing = { currency: 'USD', base: 0.01, perMegapixelStep: 0.001 };
    const unpriced: Record<string, unknown> = { ...structuredClone(preview), name: 'preview-default-priced', label: 'Preview renderer, default prices', default: false };
    delete unpriced.pricing;
    models.push(unpriced);
    t = await startInjectServer({ ATELIER_CONFIG: await writeConfigFile(configDir.dir, { models }) });
    userToken = (await t.addUser('payer')).token;
    api = apiClient(t, userToken);
  });
  afterAll(async () => {
    await t?.close();
    await configDir?.remove();
  });

  it('gives every run a cost with an amount and a breakdown (submit, status, finished)', async () => {
    const submitted = await api.submit({ prompt: 'a priced picture', width: 256, height: 256, steps: 4, seed: 1 });
    expectConsistent(submitted.cost);
    const done = await api.waitFor(submitted.runId);
    expect(done.status).toBe('succeeded');
    expect(done.cost).toEqual(submitted.cost);
  });

  it("uses a model's configured pricing (currency and amount) from the config file", async () => {
    const params = { prompt: 'same picture, two price lists', width: 512, height: 512, steps: 10, seed: 2 };
    const usd = (await api.submit({ ...params, model: 'preview' })).cost;
    const credits = (await api.submit({ ...params, model: 'preview-default-priced' })).cost;
    expectConsistent(usd);
    expectConsistent(credits);
    expect(usd.currency).toBe('USD');
    expect(credits.currency).toBe('credits');
    // 0.01 + 0.001 × 0.262144 MP × 10 steps = 0.0126 (rounded to 4 decimals)
    expect(usd.breakdown.base).toBeCloseTo(0.01, 6);
    expect(usd.breakdown.pixelSteps).toBeCloseTo(0.0026, 6);
    expect(usd.amount).toBeCloseTo(0.0126, 6);
    // Default pricing: 1 + 0.1 × 0.262144 × 10 = 1.2621
    expect(credits.amount).toBeCloseTo(1.2621, 6);
    expect(usd.amount).not.toBe(credits.amount);
  });

  it('costs more for a bigger size, more steps or more images', async () => {
    const base = { prompt: 'scaling costs', width: 256, height: 256, steps: 4, seed: 3, model: 'preview-default-priced' };
    const costOf = async (change: Record<string, unknown>) => (await api.submit({ ...base, ...change })).cost.amount as number;
    const reference = await costOf({});
    expect(await costOf({ width: 512, height: 512 })).toBeGreaterThan(reference);
    expect(await costOf({ steps: 8 })).toBeGreaterThan(reference);
    expect(await costOf({ num_images: 3 })).toBeGreaterThan(reference);
    expect(await costOf({ hires_fix: true })).toBeGreaterThan(reference);
  });

  it('POST /api/estimate returns the same amount as the submitted job for equal parameters', async () => {
    const cases = [
      { model: 'preview', width: 256, height: 192, steps: 6, num_images: 2 },
      { model: 'preview-default-priced', width: 512, height: 384, steps: 12, num_images: 1 },
      { model: 'preview-default-priced', width: 320, height: 320, steps: 5, num_images: 3, hires_fix: true },
    ];
    for (const c of cases) {
      const job = await api.submit({ prompt: 'estimate me', seed: 4, ...c });
      const estimate = await api.post('/api/estimate', c);
      expect(estimate.status, estimate.text).toBe(200);
      expect(estimate.body).toEqual(job.cost);
    }
    // Without a model, the default model (preview, USD) is used.
    const noModel = await api.post('/api/estimate', { width: 256, height: 192, steps: 6, num_images: 2 });
    expect(noModel.body.currency).toBe('USD');
  });

  it('counts an image-to-image reference as a guidance image, in the estimate too', async () => {
    const uploadId = await uploadBytes(t, userToken, await structuredPng(256, 256));
    const res = await api.post('/api/generate/image-to-image', { prompt: 'x', width: 256, height: 256, steps: 4, seed: 5, model: 'preview-default-priced', reference_image: { upload_id: uploadId } });
    expect(res.status, res.text).toBe(202);
    expectConsistent(res.body.cost);
    expect(res.body.cost.breakdown.guidanceImages).toBeGreaterThan(0);
    const estimate = await api.post('/api/estimate', { model: 'preview-default-priced', mode: 'i2i', width: 256, height: 256, steps: 4, guidance_image_count: 1 });
    expect(estimate.body).toEqual(res.body.cost);
  });

  it('prices video by frames, and the estimate agrees with the job', async () => {
    const res = await api.post('/api/generate/text-to-video', { prompt: 'a short clip', model: 'preview-t2v', width: 128, height: 72, steps: 2, num_frames: 4, fps: 8, seed: 6 });
    expect(res.status, res.text).toBe(202);
    expectConsistent(res.body.cost);
    expect(res.body.cost.breakdown.frames).toBeGreaterThan(0);
    const estimate = await api.post('/api/estimate', { model: 'preview-t2v', width: 128, height: 72, steps: 2, num_frames: 4 });
    expect(estimate.status, estimate.text).toBe(200);
    expect(estimate.body).toEqual(res.body.cost);
    const longer = await api.post('/api/estimate', { model: 'preview-t2v', width: 128, height: 72, steps: 2, num_frames: 8 });
    expect(longer.body.amount).toBeGreaterThan(estimate.body.amount);
    expect((await api.waitFor(res.body.runId)).status).toBe('succeeded');
  });

  it('estimates a video model without num_frames like the job it would make (never a 500)', async () => {
    // A text-to-video job without num_frames takes the model's default frame count, so the
    // estimate for the same parameters should price those frames (or ask for num_frames).
    const params = { model: 'preview-t2v', width: 128, height: 72, steps: 1 };
    const estimate = await api.post('/api/estimate', params);
    expect(estimate.status, estimate.text).not.toBe(500);
    expect([200, 422]).toContain(estimate.status);
    if (estimate.status === 422) {
      expect(estimate.body).toMatchObject({ code: 'invalid_parameter', field: 'num_frames' });
    } else {
      const job = await api.post('/api/generate/text-to-video', { ...params, prompt: 'default frames', seed: 8 });
      expect(job.status, job.text).toBe(202);
      expect(estimate.body).toEqual(job.body.cost);
      await api.waitFor(job.body.runId);
    }
  });

  it('validates /api/estimate bodies and names unknown models', async () => {
    expect((await api.post('/api/estimate', { width: 256, height: 256 })).status).toBe(422);
    expect((await api.post('/api/estimate', { width: 256, height: 256, steps: 4, bogus: true })).status).toBe(422);
    const unknown = await api.post('/api/estimate', { model: 'nope', width: 256, height: 256, steps: 4 });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('unknown_model');
    expect((await apiClient(t, null).post('/api/estimate', { width: 256, height: 256, steps: 4 })).status).toBe(401);
  });
});
