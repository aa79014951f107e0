import type { AssetDetail, RunView } from '../../../web/src/features/detail/detail-api';

/** A detail and run as the API returns them for image 2 of a two-image text-to-image run. */
export function imageDetail(extra: Partial<AssetDetail> = {}): AssetDetail {
  return {
    id: 'asset-2',
    runId: 'run-1',
    type: 'image',
    prompt: 'a quiet harbour at dawn',
    negativePrompt: 'fog',
    imageUrl: 'http://h/media/original.png?sig=1',
    thumbnailUrl: 'http://h/media/thumb.webp?sig=1',
    width: 512,
    height: 384,
    modelUsed: 'preview',
    parameters: { steps: 4, cfgScale: 7.5, sampler: 'Euler', seed: 101 },
    generationTime: 1.234,
    metadata: { width: 512, height: 384, seed: 101, asset_index: 1, file_size_bytes: 204800, format: 'png' },
    evaluations: { clipScore: 0.3123, batchDiversity: 0.42, phash: 'ffee' },
    collection: 'workspace',
    expiresAt: '2025-01-02T00:00:00.000Z',
    createdAt: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
}

export function imageRun(extra: Partial<RunView> = {}, parameters: Partial<RunView['parameters']> = {}): RunView {
  return {
    runId: 'run-1',
    status: 'succeeded',
    mode: 't2i',
    model: 'preview',
    backend: { kind: 'builtin', label: 'Preview renderer' },
    parameters: { prompt: 'a quiet harbour at dawn', negativePrompt: 'fog', width: 512, height: 384, steps: 4, cfgScale: 7.5, sampler: 'Euler', seed: 100, numImages: 2, hiresFix: true, priority: 0, ...parameters },
    seed: 100,
    cached: false,
    cachedFrom: null,
    cost: { amount: 0.0123, currency: 'USD', breakdown: {} },
    warnings: [],
    assets: [
      { id: 'asset-1', index: 0, variants: [] },
      {
        id: 'asset-2',
        index: 1,
        variants: [
          { name: 'normal', preset: 'web', format: 'jpeg', width: 512, height: 384, bytes: 1000, url: 'http://h/media/normal.jpg?sig=1' },
          { name: 'high', preset: 'web', format: 'webp', width: 512, height: 384, bytes: 900, url: 'http://h/media/high.webp?sig=1' },
        ],
      },
    ],
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.234Z',
    ...extra,
  };
}
