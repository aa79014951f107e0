import { describe, expect, it } from 'vitest';
import { displayVariant, downloadName, formatBytes, formatDuration, parameterRows, parametersText } from '../../../web/src/features/detail/parameters';
import { imageDetail, imageRun } from './fixtures';

const rows = (...args: Parameters<typeof parameterRows>) => Object.fromEntries(parameterRows(args[0], args[1], (iso) => `at ${iso}`).map((r) => [r.label, r.value]));

describe('detail parameters', () => {
  it('lists every parameter of an image with its run', () => {
    expect(rows(imageDetail(), imageRun())).toEqual({
      Prompt: 'a quiet harbour at dawn',
      'Negative prompt': 'fog',
      Model: 'preview',
      Mode: 'Text to image',
      Size: '512 × 384',
      Steps: '4',
      'CFG scale': '7.5',
      Sampler: 'Euler',
      Seed: '101',
      Batch: 'image 2 of 2 (run seed 100)',
      'Hires fix': 'Yes',
      Cost: '0.0123 USD',
      Cached: 'No',
      Backend: 'Preview renderer',
      Created: 'at 2025-01-01T00:00:00.000Z',
      'Generation time': '1.23 s',
      'File size': '200 KB',
      'CLIP score': '0.312',
      'Batch diversity': '0.42',
      pHash: 'ffee',
      Collection: 'Workspace',
      Expires: 'at 2025-01-02T00:00:00.000Z',
      Run: 'run-1',
    });
  });

  it('adds image-to-image, cache and video rows, and works without the run', () => {
    const i2i = rows(imageDetail(), imageRun({ mode: 'i2i', cached: true, cachedFrom: 'run-0' }, { denoiseStrength: 0.35, exactCopy: false, referenceImage: { assetId: 'ref-1', format: 'png', width: 64, height: 64 } }));
    expect(i2i).toMatchObject({ Mode: 'Image to image', Denoise: '0.35', 'Exact copy': 'No', 'Reference image': 'asset ref-1 (64 × 64)', Cached: 'Yes (copy of run run-0)' });

    const video = rows(
      imageDetail({ type: 'video', metadata: { duration_seconds: 2, fps: 8, frame_count: 16, seed: 3 }, evaluations: {} }),
      imageRun({ mode: 't2v' }, { numFrames: 16, fps: 8, numImages: 1 }),
    );
    expect(video).toMatchObject({ Mode: 'Text to video', 'Video length': '2 s', FPS: '8', Frames: '16' });
    expect(video).not.toHaveProperty('Hires fix');

    const alone = rows(imageDetail({ negativePrompt: null, expiresAt: null, collection: 'library' }), undefined);
    expect(alone).not.toHaveProperty('Mode');
    expect(alone).not.toHaveProperty('Negative prompt');
    expect(alone).not.toHaveProperty('Cost');
    expect(alone).toMatchObject({ Seed: '101', Collection: 'Library' });
  });

  it('copies parameters in A1111 infotext layout', () => {
    expect(parametersText(imageDetail(), imageRun())).toBe(
      'a quiet harbour at dawn\nNegative prompt: fog\nSteps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 101, Size: 512x384, Model: preview, Mode: t2i, Hires fix: true',
    );
  });

  it('shows the high-quality variant, else the normal one, else the original', () => {
    expect(displayVariant(imageDetail(), imageRun()).url).toBe('http://h/media/high.webp?sig=1');
    const run = imageRun();
    const onlyNormal = { ...run, assets: [{ ...run.assets[1]!, variants: run.assets[1]!.variants.filter((v) => v.name === 'normal') }] };
    expect(displayVariant(imageDetail(), onlyNormal).url).toBe('http://h/media/normal.jpg?sig=1');
    expect(displayVariant(imageDetail(), undefined).url).toBe('http://h/media/original.png?sig=1');
    expect(displayVariant(imageDetail({ type: 'video', imageUrl: 'v.mp4' }), run).url).toBe('v.mp4');
  });

  it('names downloads and formats sizes and durations', () => {
    expect(downloadName(imageDetail())).toBe('a-quiet-harbour-at-dawn-101.png');
    expect(downloadName(imageDetail({ type: 'video', prompt: '' }))).toBe('atelier-101.mp4');
    expect([0.25, 12, 75].map(formatDuration)).toEqual(['250 ms', '12 s', '1 min 15 s']);
    expect([512, 2048, 3 * 1024 * 1024].map(formatBytes)).toEqual(['512 B', '2 KB', '3 MB']);
  });
});
