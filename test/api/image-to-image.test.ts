import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { centerCropTo } from '../../src/media/image/center-crop.js';
import { ssim } from '../../src/media/image/similarity.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** A reference with structure (so similarity means something): gradient plus shapes. */
async function referencePng(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#1d3557"/><stop offset="1" stop-color="#e63946"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 3}" cy="${height / 2}" r="${height / 4}" fill="#f1faee"/>
    <rect x="${width / 2}" y="${height / 4}" width="${width / 4}" height="${height / 3}" fill="#a8dadc"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function upload(t: InjectServer, token: string, bytes: Buffer): Promise<string> {
  const res = await apiClient(t, token).upload(bytes, 'ref.png');
  if (res.status !== 201) throw new Error(`upload → ${res.status} ${res.text}`);
  return res.body.uploadId;
}

async function grey(bytes: Buffer, width: number, height: number): Promise<Uint8Array> {
  return sharp(bytes).resize(width, height).greyscale().raw().toBuffer();
}

describe('POST /api/generate/image-to-image', () => {
  let t: InjectServer;
  let alice: ApiClient;
  let aliceToken: string;
  let bob: ApiClient;
  let reference: Buffer;
  let uploadId: string;
  const W = 512;
  const H = 384;

  beforeAll(async () => {
    t = await startInjectServer();
    aliceToken = (await t.addUser('alice')).token;
    alice = apiClient(t, aliceToken);
    bob = apiClient(t, (await t.addUser('bob')).token);
    reference = await referencePng(640, 400);
    uploadId = await upload(t, aliceToken, reference);
  });
  afterAll(async () => {
    await t.close();
  });

  async function img2img(body: Record<string, unknown>) {
    const res = await alice.post('/api/generate/image-to-image', { width: W, height: H, seed: 9, steps: 8, ...body });
    expect(res.status, res.text).toBe(202);
    const done = await alice.waitFor(res.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    return { submitted: res.body, done, png: (await alice.download(done.assets[0].url)).bytes };
  }

  it('reproduces the center-cropped reference in exact copy mode (SSIM ≥ 0.95) with the SPEC §3 clamps', async () => {
    const { submitted, done, png } = await img2img({ prompt: '', exact_copy_mode: true, denoise_strength: 0.5, cfg_scale: 9, steps: 30, negative_prompt: 'blurry', reference_image: { upload_id: uploadId } });
    expect(submitted.parameters).toMatchObject({ denoiseStrength: 0.05, cfgScale: 1, steps: 6, exactCopy: true, negativePrompt: null });
    expect(done.assets[0].metadata).toMatchObject({ denoise_strength: 0.05, pipeline: 'img2img', resize_policy: 'center_crop', negative_prompt_used: false, guidance_scale: 1, steps: 6 });
    const expected = await sharp(await centerCropTo(reference, W, H), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    const score = ssim(await grey(png, W, H), await grey(expected, W, H), W, H);
    expect(score).toBeGreaterThanOrEqual(0.95);
  });

  it('passes modify-mode parameters through unclamped and changes the image', async () => {
    const { submitted, done, png } = await img2img({ prompt: 'a stormy night sky', denoise_strength: 0.9, cfg_scale: 11, steps: 12, negative_prompt: 'blurry', reference_image: { upload_id: uploadId } });
    expect(submitted.parameters).toMatchObject({ denoiseStrength: 0.9, cfgScale: 11, steps: 12, exactCopy: false });
    expect(done.assets[0].metadata).toMatchObject({ denoise_strength: 0.9, negative_prompt_used: true, pipeline: 'img2img' });
    const expected = await sharp(await centerCropTo(reference, W, H), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    expect(ssim(await grey(png, W, H), await grey(expected, W, H), W, H)).toBeLessThan(0.9);
  });

  it('converts reference_strength with a deprecation warning in the response', async () => {
    const res = await alice.post('/api/generate/image-to-image', { prompt: 'x', reference_strength: 0.7, width: 256, height: 256, steps: 2, reference_image: { upload_id: uploadId } });
    expect(res.status).toBe(202);
    expect(res.body.parameters.denoiseStrength).toBeCloseTo(0.3);
    expect(res.body.warnings.join(' ')).toMatch(/reference_strength is deprecated/);
  });

  it('takes a workspace asset of the same user as the reference', async () => {
    const made = await alice.generate({ prompt: 'a green field', width: 256, height: 256, steps: 2, seed: 3 });
    const res = await alice.post('/api/generate/image-to-image', { prompt: '', exact_copy_mode: true, width: 256, height: 256, reference_image: { asset_id: made.assets[0].id } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.parameters.referenceImage).toMatchObject({ assetId: made.assets[0].id, width: 256, height: 256 });
    expect((await alice.waitFor(res.body.runId)).status).toBe('succeeded');
  });

  it("answers 404 for another user's upload or asset", async () => {
    const made = await alice.generate({ prompt: 'x', width: 64, height: 64, steps: 1 });
    for (const ref of [{ upload_id: uploadId }, { asset_id: made.assets[0].id }]) {
      const res = await bob.post('/api/generate/image-to-image', { prompt: 'x', reference_image: ref });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it('requires a reference and refuses one on text-to-image', async () => {
    expect((await alice.post('/api/generate/image-to-image', { prompt: 'x' })).status).toBe(422);
    const res = await alice.post('/api/generate/text-to-image', { prompt: 'x', reference_image: { upload_id: uploadId } });
    expect(res.status).toBe(422);
  });

  it('keeps its own copy of the input: deleting the source asset does not starve a queued job', async () => {
    const made = await alice.generate({ prompt: 'x', width: 64, height: 64, steps: 1 });
    // A long job occupies the only runner, so the img2img job is still queued when its
    // source disappears.
    const blocker = await alice.submit({ prompt: 'slow', width: 2048, height: 2048, steps: 150 });
    await alice.waitFor(blocker.runId, (run) => run.status === 'running');
    const res = await alice.post('/api/generate/image-to-image', { prompt: 'y', width: 64, height: 64, steps: 2, reference_image: { asset_id: made.assets[0].id } });
    expect(res.status).toBe(202);
    expect((await alice.delete(`/api/images/${made.assets[0].id}`)).status).toBe(204);
    expect((await alice.status(res.body.runId)).body.status).toBe('queued');
    await alice.post(`/api/runs/${blocker.runId}/cancel`);
    expect((await alice.waitFor(res.body.runId)).status).toBe('succeeded');
  });
});
