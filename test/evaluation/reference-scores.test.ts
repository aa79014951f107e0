import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { referenceScores } from '../../src/evaluation/reference-scores.js';
import { centerCropTo } from '../../src/media/image/center-crop.js';
import { noisePng, rgbToPng, scenePng } from '../helpers/synthetic-images.js';

describe('referenceScores', () => {
  it('scores the center crop of the reference as identical', async () => {
    const reference = await scenePng(1, 320, 180); // 16:9 into 4:3: the sides are cropped away
    const output = await rgbToPng(await centerCropTo(reference, 160, 120), 160, 120);
    const scores = await referenceScores(output, reference);
    expect(scores).toMatchObject({ width: 160, height: 120, psnr: Infinity });
    expect(scores.ssim).toBeCloseTo(1, 10);
  });

  it('scores a lightly edited crop as near-identical', async () => {
    const reference = await scenePng(2, 256, 256);
    const output = await sharp(reference).resize(128, 128).blur(0.6).png().toBuffer();
    const scores = await referenceScores(output, reference);
    expect(scores.ssim).toBeGreaterThan(0.9);
    expect(scores.psnr).toBeGreaterThan(30);
  });

  it('scores an unrelated output low', async () => {
    const reference = await scenePng(3, 200, 150);
    const output = await noisePng(4, 200, 150);
    const scores = await referenceScores(output, reference);
    expect(scores.ssim).toBeLessThan(0.2);
    expect(scores.psnr).toBeLessThan(20);
  });

  it('compares at the output size whatever the reference size', async () => {
    const reference = await scenePng(5, 400, 300);
    const output = await sharp(reference).resize(100, 75).png().toBuffer();
    const scores = await referenceScores(output, reference);
    expect([scores.width, scores.height]).toEqual([100, 75]);
    expect(scores.ssim).toBeGreaterThan(0.95);
  });

  it('rejects an output that does not decode', async () => {
    await expect(referenceScores(Buffer.from('nope'), await scenePng(6))).rejects.toThrow();
  });
});
