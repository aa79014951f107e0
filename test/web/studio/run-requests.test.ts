import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../../web/src/features/generate/models';
import type { AssetView, RunView } from '../../../web/src/features/live/run-state';
import { displayUrl, isFlagged, isPreviewRun, seedOf, upscaleRefusal, upscaleRequest, varyRequest } from '../../../web/src/features/studio/run-requests';
import { MODELS } from '../generate/fixtures';

const asset = (index: number, patch: Partial<AssetView> = {}): AssetView => ({
  id: `a${index}`,
  type: 'image',
  index,
  url: `/media/${index}.png`,
  thumbnailUrl: null,
  contentType: 'image/png',
  metadata: { seed: 500 + index },
  evaluations: {},
  ...patch,
});

const run = (patch: Partial<RunView> = {}): RunView => ({
  runId: 'run-1',
  status: 'succeeded',
  mode: 't2i',
  model: 'preview',
  backend: { kind: 'builtin', label: 'Preview renderer' },
  parameters: {
    prompt: 'a harbour',
    negativePrompt: 'fog',
    width: 768,
    height: 512,
    steps: 12,
    cfgScale: 6,
    sampler: 'Euler a',
    seed: 500,
    numImages: 4,
    hiresFix: false,
    priority: 0,
    guidanceImages: [{ uploadId: 'u1', format: 'png', width: 8, height: 8, sha256: 'x' }],
    controlnet: [{ type: 'canny', weight: 0.5, start: 0, end: 1, image: { assetId: 'c1', format: 'png', width: 8, height: 8, sha256: 'y' } }],
  },
  seed: 500,
  progress: { fraction: 1, step: 12, totalSteps: 12 },
  error: null,
  warnings: [],
  cached: false,
  cachedFrom: null,
  cost: null,
  assets: [asset(0), asset(1)],
  ...patch,
});

describe('actions on a result', () => {
  it('each image has its own seed (the batch seed + its index when metadata lacks it)', () => {
    expect(seedOf(asset(1), run())).toBe(501);
    expect(seedOf(asset(3, { metadata: {} }), run())).toBe(503);
  });

  it('Vary reruns the run with a random seed', () => {
    expect(varyRequest(run())).toEqual({ path: '/api/runs/run-1/rerun', body: { seed: -1 } });
  });

  it('Upscale: one image at its seed with hires fix, twice the size within the model limits, conditioning kept', () => {
    const { path, body } = upscaleRequest(run(), asset(1), MODELS[0]);
    expect(path).toBe('/api/generate/text-to-image');
    expect(body).toEqual({
      prompt: 'a harbour',
      negative_prompt: 'fog',
      model: 'preview',
      width: 1536,
      height: 1024,
      steps: 12,
      cfg_scale: 6,
      sampler: 'Euler a',
      seed: 501,
      num_images: 1,
      hires_fix: true,
      guidance_images: [{ upload_id: 'u1' }],
      controlnet: [{ image: { asset_id: 'c1' }, type: 'canny', weight: 0.5, start: 0, end: 1 }],
    });
    // A model that allows 1024 at most: as large as it allows, in multiples of 8.
    const small = { ...MODELS[1]!, limits: { ...MODELS[1]!.limits, maxWidth: 1000, maxHeight: 1000 } };
    expect(upscaleRequest(run(), asset(0), small).body).toMatchObject({ width: 1000, height: 664 });
  });

  it('Upscale is refused outside text-to-image and on models without hires fix', () => {
    expect(upscaleRefusal(run(), MODELS[0])).toBeUndefined();
    expect(upscaleRefusal(run({ mode: 'i2i' }), MODELS[0])).toBe('Hires fix is a text-to-image pass');
    const noHires: ModelInfo = { ...MODELS[1]!, capabilities: { controlnet: [], guidanceImages: 0, hiresFix: false } };
    expect(upscaleRefusal(run({ model: 'small' }), noHires)).toBe('small has no hires fix pass');
  });
});

describe('what a result says about itself', () => {
  it('the preview renderer: its backend, or its model when the view does not say', () => {
    expect(isPreviewRun(run(), [])).toBe(true);
    expect(isPreviewRun(run({ backend: { kind: 'a1111', label: 'A1111' } }), [])).toBe(false);
    const { backend: _b, ...unknown } = run();
    expect(isPreviewRun(unknown, [{ ...MODELS[0]!, preview: true }])).toBe(true);
    expect(isPreviewRun(unknown, [{ ...MODELS[0]!, preview: false }])).toBe(false);
  });

  it('flagged only when metadata.safety.flagged is true', () => {
    expect(isFlagged(asset(0, { metadata: { safety: { model: 'm', scores: {}, flagged: true } } }))).toBe(true);
    expect(isFlagged(asset(0, { metadata: { safety: { flagged: false } } }))).toBe(false);
    expect(isFlagged(asset(0, { metadata: { safety: 'yes' } }))).toBe(false);
    expect(isFlagged(asset(0))).toBe(false);
  });

  it('shows the high variant, else the original', () => {
    expect(displayUrl(asset(0, { variants: [{ name: 'normal', format: 'jpeg', width: 1, height: 1, url: '/n.jpg' }, { name: 'high', format: 'webp', width: 1, height: 1, url: '/h.webp' }] }))).toBe('/h.webp');
    expect(displayUrl(asset(0))).toBe('/media/0.png');
  });
});
