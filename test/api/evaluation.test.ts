import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { structuredPng, uploadBytes } from '../helpers/server-extras.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/**
 * Scores are computed after the run succeeds, off the runner's path: poll the status until
 * every asset carries the wanted scores.
 */
async function waitForScores(api: ApiClient, runId: string, wanted: readonly string[], timeoutMs = 10_000): Promise<any> {
  const run = await api.waitFor(runId);
  expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
  return api.waitFor(runId, (r) => r.assets.length > 0 && r.assets.every((a: any) => wanted.every((k) => a.evaluations?.[k] !== undefined)), timeoutMs);
}

describe('evaluation scores (SPEC §7) on runs and images', () => {
  let t: InjectServer;
  let api: ApiClient;
  let token: string;
  let uploadId: string;
  let batch: any;
  let copy: any;
  let modified: any;
  const W = 256;
  const H = 192;

  beforeAll(async () => {
    t = await startInjectServer();
    token = (await t.addUser('critic')).token;
    api = apiClient(t, token);
    uploadId = await uploadBytes(t, token, await structuredPng(320, 200));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('gives every image of a batch a 64-bit pHash and the batch diversity', async () => {
    const submitted = await api.submit({ prompt: 'three different castles', width: 192, height: 192, steps: 4, seed: 21, num_images: 3 });
    batch = await waitForScores(api, submitted.runId, ['phash', 'batchDiversity']);
    expect(batch.assets).toHaveLength(3);
    const diversity = batch.assets[0].evaluations.batchDiversity;
    expect(diversity).toBeGreaterThan(0);
    expect(diversity).toBeLessThanOrEqual(1);
    for (const asset of batch.assets) {
      expect(asset.evaluations.phash).toMatch(/^[0-9a-f]{16}$/);
      // Repeated on every asset of the batch.
      expect(asset.evaluations.batchDiversity).toBe(diversity);
      // Text-to-image has no reference to compare with.
      expect(asset.evaluations.ssim).toBeUndefined();
      expect(asset.evaluations.psnr).toBeUndefined();
    }
  });

  it('gives a single text-to-image output a pHash but no batch diversity', async () => {
    const submitted = await api.submit({ prompt: 'a lone tower', width: 128, height: 128, steps: 3, seed: 22 });
    const run = await waitForScores(api, submitted.runId, ['phash']);
    expect(run.assets[0].evaluations.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(run.assets[0].evaluations.batchDiversity).toBeUndefined();
  });

  it('scores an exact-copy image-to-image run near-identical to its reference (SSIM ≥ 0.95, PSNR > 25 dB)', async () => {
    const res = await api.post('/api/generate/image-to-image', { prompt: '', exact_copy_mode: true, width: W, height: H, seed: 7, reference_image: { upload_id: uploadId } });
    expect(res.status, res.text).toBe(202);
    copy = await waitForScores(api, res.body.runId, ['ssim', 'psnr', 'phash']);
    const scores = copy.assets[0].evaluations;
    expect(scores.ssim).toBeGreaterThanOrEqual(0.95);
    expect(scores.ssim).toBeLessThanOrEqual(1);
    expect(scores.psnr).toBeGreaterThan(25);
    expect(scores.psnr).toBeLessThanOrEqual(100);
    expect(scores.phash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('scores a modify-mode run at denoise 0.9 lower than the exact copy', async () => {
    const res = await api.post('/api/generate/image-to-image', { prompt: 'a stormy night sky', denoise_strength: 0.9, width: W, height: H, steps: 8, seed: 7, reference_image: { upload_id: uploadId } });
    expect(res.status, res.text).toBe(202);
    modified = await waitForScores(api, res.body.runId, ['ssim', 'psnr']);
    const scores = modified.assets[0].evaluations;
    const exact = copy.assets[0].evaluations;
    expect(scores.ssim).toBeLessThan(exact.ssim);
    expect(scores.ssim).toBeLessThan(0.9);
    expect(scores.psnr).toBeLessThan(exact.psnr);
  });

  it('shows the same scores on GET /api/images/:id', async () => {
    for (const asset of [...batch.assets, copy.assets[0], modified.assets[0]]) {
      const res = await api.get(`/api/images/${asset.id}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body.evaluations).toEqual(asset.evaluations);
    }
  });

  it('stores one row per score in the evaluations table', () => {
    const db = new Database(join(t.dataDir, 'atelier.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('select asset_id, job_id, metric, value, details from evaluations where job_id in (?, ?, ?)').all(batch.runId, copy.runId, modified.runId) as {
        asset_id: string;
        job_id: string;
        metric: string;
        value: number;
        details: string | null;
      }[];
      const of = (assetId: string) => rows.filter((r) => r.asset_id === assetId).map((r) => r.metric).sort();
      for (const asset of batch.assets) expect(of(asset.id)).toEqual(['batch_diversity', 'phash']);
      expect(of(copy.assets[0].id)).toEqual(['phash', 'psnr', 'ssim']);
      expect(of(modified.assets[0].id)).toEqual(['phash', 'psnr', 'ssim']);

      const phash = rows.find((r) => r.asset_id === batch.assets[0].id && r.metric === 'phash')!;
      const details = JSON.parse(phash.details!);
      expect(details.hash).toBe(batch.assets[0].evaluations.phash);
      expect(details.nearest_index).toEqual(expect.any(Number));
      expect(details.nearest_distance).toBeGreaterThanOrEqual(0);
      expect(details.nearest_distance).toBeLessThanOrEqual(64);
      const diversity = rows.find((r) => r.asset_id === batch.assets[0].id && r.metric === 'batch_diversity')!;
      expect(JSON.parse(diversity.details!)).toEqual({ batch_size: 3 });
      const ssim = rows.find((r) => r.asset_id === copy.assets[0].id && r.metric === 'ssim')!;
      expect(ssim.job_id).toBe(copy.runId);
      expect(ssim.value).toBeCloseTo(copy.assets[0].evaluations.ssim, 10);
      expect(JSON.parse(ssim.details!)).toMatchObject({ width: W, height: H });
    } finally {
      db.close();
    }
  });
});
