import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipScorer } from '../../src/evaluation/clip/clip-scorer.js';
import type { EvaluationFailure, EvaluationRecord } from '../../src/evaluation/evaluate-job.js';
import { createJobEvaluator } from '../../src/evaluation/evaluate-stored-job.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { createDiskStorage } from '../../src/storage/disk/disk-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { scenePng } from '../helpers/synthetic-images.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const spec = {
  mode: 'i2i', model: 'preview', prompt: 'a lighthouse', negativePrompt: undefined, width: 192, height: 144, steps: 6, cfgScale: 7.5, sampler: 'Euler',
  seed: 1, seedFixed: true, numImages: 2, hiresFix: false, priority: 0, denoiseStrength: 0.5,
  reference: { key: 'job-inputs/u/j/reference.png', format: 'png', width: 192, height: 144, sha256: 'x', source: { uploadId: 'up' } },
} satisfies JobSpec;

describe('createJobEvaluator', () => {
  let storage: Storage;
  let remove: () => Promise<void>;
  const assets = [
    { id: 'a0', asset_index: 0, type: 'image' as const, storage_key: 'workspace/u/j/0.png' },
    { id: 'a1', asset_index: 1, type: 'image' as const, storage_key: 'workspace/u/j/1.png' },
  ];

  beforeAll(async () => {
    const tmp = await makeTempDir();
    remove = tmp.remove;
    storage = createDiskStorage({ root: tmp.dir, signer: createUrlSigner('evaluation-test-signing-secret-0123456789') });
    await storage.put(spec.reference.key, await scenePng(1));
    await storage.put(assets[0]!.storage_key, await scenePng(1));
    await storage.put(assets[1]!.storage_key, await scenePng(2));
  });
  afterAll(() => remove());

  it('reads the stored images and reference, scores them and inserts the records', async () => {
    const inserted: { jobId: string; records: readonly EvaluationRecord[]; at: number }[] = [];
    const clip: ClipScorer = { score: async () => 30, close: async () => {} };
    const evaluate = createJobEvaluator({ storage, clip, evaluations: { insertMany: async (jobId, records, at) => void inserted.push({ jobId, records, at }) }, warn: () => {}, now: () => 1234 });
    await evaluate({ id: 'j' }, spec, [...assets, { id: 'v', asset_index: 2, type: 'video', storage_key: 'workspace/u/j/2.mp4' }]);
    expect(inserted).toHaveLength(1);
    expect(inserted[0]).toMatchObject({ jobId: 'j', at: 1234 });
    const byAsset = (id: string) => inserted[0]!.records.filter((r) => r.asset_id === id).map((r) => r.metric).sort();
    expect(byAsset('a0')).toEqual(['batch_diversity', 'clip_score', 'phash', 'psnr', 'ssim']);
    expect(byAsset('a1')).toEqual(['batch_diversity', 'clip_score', 'phash', 'psnr', 'ssim']);
    expect(byAsset('v')).toEqual([]);
    expect(inserted[0]!.records.find((r) => r.asset_id === 'a0' && r.metric === 'ssim')!.value).toBeCloseTo(1, 6); // a0 is the reference itself
  });

  it('scores the pixels the caller still holds without reading the originals back, with the same results', async () => {
    const fromStorage: EvaluationRecord[][] = [];
    const gets: string[] = [];
    const counting: Storage = { ...storage, get: (key) => (gets.push(key), storage.get(key)) };
    const evaluate = createJobEvaluator({ storage: counting, evaluations: { insertMany: async (_j, records) => void fromStorage.push([...records]) }, warn: () => {}, now: () => 0 });
    await evaluate({ id: 'j' }, spec, assets);
    expect(gets.sort()).toEqual([assets[0]!.storage_key, assets[1]!.storage_key, spec.reference.key].sort());
    gets.length = 0;
    await evaluate({ id: 'j' }, spec, assets, new Map([[0, await scenePng(1)], [1, await scenePng(2)]]));
    expect(gets).toEqual([spec.reference.key]);
    expect(fromStorage[1]).toEqual(fromStorage[0]);
  });

  it('warns about failed metrics with the job id and still stores the rest', async () => {
    const warnings: (EvaluationFailure & { jobId: string })[] = [];
    let stored: readonly EvaluationRecord[] = [];
    const clip: ClipScorer = { score: async () => Promise.reject(new Error('down')), close: async () => {} };
    const evaluate = createJobEvaluator({ storage, clip, evaluations: { insertMany: async (_j, records) => void (stored = records) }, warn: (w) => warnings.push(w), now: () => 0 });
    await evaluate({ id: 'j' }, spec, assets);
    expect(warnings.map((w) => [w.jobId, w.metric, w.assetId])).toEqual([
      ['j', 'clip_score', 'a0'],
      ['j', 'clip_score', 'a1'],
    ]);
    expect(stored.filter((r) => r.metric === 'ssim')).toHaveLength(2);
  });

  it('does nothing for a job without images', async () => {
    let calls = 0;
    const evaluate = createJobEvaluator({ storage, evaluations: { insertMany: async () => void (calls += 1) }, warn: () => {}, now: () => 0 });
    await evaluate({ id: 'j' }, { ...spec, mode: 't2v' }, [{ id: 'v', asset_index: 0, type: 'video', storage_key: 'x.mp4' }]);
    expect(calls).toBe(0);
  });
});
