import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GeneratedImage } from '../../src/backends/backend.js';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import type { ClipScorer } from '../../src/evaluation/clip/clip-scorer.js';
import { evaluateOutputs, PSNR_CAP_DB, type EvaluationFailure, type EvaluationRecord } from '../../src/evaluation/evaluate-job.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { centerCropTo } from '../../src/media/image/center-crop.js';
import { noisePng, rgbToPng, scenePng } from '../helpers/synthetic-images.js';

const t2i = { mode: 't2i', prompt: 'a lighthouse at dusk' } as const;
const i2i = { mode: 'i2i', prompt: 'a lighthouse at dusk' } as const;
const outputsOf = (pngs: readonly Buffer[]) => pngs.map((png, index) => ({ assetId: `asset-${index}`, index, png }));
const pick = (records: readonly EvaluationRecord[], metric: string) => records.filter((r) => r.metric === metric);

/** A ClipScorer that answers from a table and records what it was asked. */
function fakeClip(score = 31.5): ClipScorer & { calls: string[] } {
  const calls: string[] = [];
  return { calls, score: async (_png, prompt) => (calls.push(prompt), score), close: async () => {} };
}

describe('evaluateOutputs', () => {
  let scenes: Buffer[];
  beforeAll(async () => {
    scenes = await Promise.all([11, 12, 13].map((seed) => scenePng(seed)));
  });

  it('hashes every image and gives a varied batch its diversity on each asset', async () => {
    const records = await evaluateOutputs({ spec: t2i, outputs: outputsOf(scenes) });
    const hashes = pick(records, 'phash');
    expect(hashes.map((r) => r.asset_id)).toEqual(['asset-0', 'asset-1', 'asset-2']);
    for (const r of hashes) {
      expect(r.value).toBe(0);
      expect(r.details).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{16}$/), nearest_index: expect.any(Number), nearest_distance: expect.any(Number) });
    }
    const diversity = pick(records, 'batch_diversity');
    expect(diversity.map((r) => r.asset_id)).toEqual(['asset-0', 'asset-1', 'asset-2']);
    expect(new Set(diversity.map((r) => r.value)).size).toBe(1);
    expect(diversity[0]!.value).toBeGreaterThan(0.3);
    expect(diversity[0]!.details).toEqual({ batch_size: 3 });
    expect(pick(records, 'ssim')).toEqual([]);
    expect(pick(records, 'clip_score')).toEqual([]);
  });

  it('scores a batch of copies 0 and points each copy at its twin', async () => {
    const records = await evaluateOutputs({ spec: t2i, outputs: outputsOf([scenes[0]!, scenes[0]!]) });
    expect(pick(records, 'batch_diversity').map((r) => r.value)).toEqual([0, 0]);
    expect(pick(records, 'phash').map((r) => r.details)).toEqual([
      expect.objectContaining({ nearest_index: 1, nearest_distance: 0 }),
      expect.objectContaining({ nearest_index: 0, nearest_distance: 0 }),
    ]);
  });

  it('gives a single image its hash only', async () => {
    const records = await evaluateOutputs({ spec: t2i, outputs: outputsOf([scenes[0]!]) });
    expect(records.map((r) => r.metric)).toEqual(['phash']);
    expect(Object.keys(records[0]!.details!)).toEqual(['hash']);
  });

  it('scores i2i outputs against the reference, capping PSNR for identical pixels', async () => {
    const reference = await scenePng(14, 320, 180);
    const copy = await rgbToPng(await centerCropTo(reference, 160, 120), 160, 120);
    const unrelated = await noisePng(15, 160, 120);
    const records = await evaluateOutputs({ spec: i2i, outputs: outputsOf([copy, unrelated]), reference });
    const [ssimCopy, ssimOther] = pick(records, 'ssim');
    const [psnrCopy, psnrOther] = pick(records, 'psnr');
    expect(ssimCopy).toMatchObject({ asset_id: 'asset-0', details: { width: 160, height: 120 } });
    expect(ssimCopy!.value).toBeCloseTo(1, 10);
    expect(psnrCopy).toEqual({ asset_id: 'asset-0', metric: 'psnr', value: PSNR_CAP_DB, details: { width: 160, height: 120, capped: true } });
    expect(ssimOther!.value).toBeLessThan(0.2);
    expect(psnrOther!.value).toBeLessThan(20);
    expect(psnrOther!.details).toEqual({ width: 160, height: 120 });
  });

  it('scores a real exact-copy result as near-identical (SPEC §7)', async () => {
    const reference = await scenePng(16, 400, 300);
    const spec: JobSpec = {
      mode: 'i2i', model: 'preview', prompt: '', negativePrompt: undefined, width: 256, height: 192, steps: 6, cfgScale: 1, sampler: 'Euler',
      seed: 7, seedFixed: true, numImages: 1, hiresFix: false, priority: 0, denoiseStrength: 0.05, exactCopy: true,
    };
    const [image] = (await createBuiltinBackend().generate(spec, { signal: new AbortController().signal, onProgress: () => {}, inputs: { reference } })) as GeneratedImage[];
    const records = await evaluateOutputs({ spec, outputs: [{ assetId: 'a', index: 0, png: image!.data }], reference, clip: fakeClip() });
    expect(pick(records, 'ssim')[0]!.value).toBeGreaterThan(0.95);
    // The renderer's PREVIEW mark in one corner is the only real difference: ~29 dB, where an
    // unrelated picture scores under 20 (above).
    expect(pick(records, 'psnr')[0]!.value).toBeGreaterThan(28);
    expect(pick(records, 'clip_score')).toEqual([]); // an empty prompt has nothing to match
  });

  it('leaves SSIM/PSNR out of other modes even with a reference', async () => {
    const records = await evaluateOutputs({ spec: t2i, outputs: outputsOf([scenes[0]!]), reference: scenes[0]! });
    expect(records.map((r) => r.metric)).toEqual(['phash']);
  });

  it('adds a CLIP score per image when a scorer is given', async () => {
    const clip = fakeClip(28.25);
    const records = await evaluateOutputs({ spec: t2i, outputs: outputsOf(scenes.slice(0, 2)), clip });
    expect(pick(records, 'clip_score')).toEqual([
      { asset_id: 'asset-0', metric: 'clip_score', value: 28.25 },
      { asset_id: 'asset-1', metric: 'clip_score', value: 28.25 },
    ]);
    expect(clip.calls).toEqual(['a lighthouse at dusk', 'a lighthouse at dusk']);
  });

  it('reports a failing metric to onError and still computes the rest', async () => {
    const failures: EvaluationFailure[] = [];
    const clip: ClipScorer = { score: async () => Promise.reject(new Error('evaluator down')), close: async () => {} };
    const broken = Buffer.from('not a png');
    const records = await evaluateOutputs({ spec: i2i, outputs: outputsOf([scenes[0]!, broken]), reference: scenes[1]!, clip, onError: (f) => failures.push(f) });
    expect(failures.map((f) => [f.metric, f.assetId])).toEqual([
      ['clip_score', 'asset-0'],
      ['phash', 'asset-1'],
      ['ssim', 'asset-1'],
      ['clip_score', 'asset-1'],
    ]);
    expect((failures[0]!.error as Error).message).toBe('evaluator down');
    expect(records.map((r) => [r.asset_id, r.metric])).toEqual([
      ['asset-0', 'ssim'],
      ['asset-0', 'psnr'],
      ['asset-0', 'phash'],
    ]);
  });

  it('throws the first failure when no onError is given', async () => {
    const clip: ClipScorer = { score: async () => Promise.reject(new Error('evaluator down')), close: async () => {} };
    await expect(evaluateOutputs({ spec: t2i, outputs: outputsOf([scenes[0]!]), clip })).rejects.toThrow('evaluator down');
  });

  it('orders records by batch index whatever the input order', async () => {
    const outputs = outputsOf(scenes).reverse();
    const records = await evaluateOutputs({ spec: t2i, outputs });
    expect(pick(records, 'phash').map((r) => r.asset_id)).toEqual(['asset-0', 'asset-1', 'asset-2']);
  });

  it('handles an image with alpha', async () => {
    const rgba = await sharp(scenes[0]!).ensureAlpha(0.5).png().toBuffer();
    const records = await evaluateOutputs({ spec: i2i, outputs: outputsOf([rgba]), reference: scenes[0]! });
    expect(records.map((r) => r.metric)).toEqual(['ssim', 'psnr', 'phash']);
  });
});
