import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { batchDiversity, hammingDistance, perceptualHash } from '../../src/evaluation/perceptual-hash.js';
import { scenePng } from '../helpers/synthetic-images.js';

describe('perceptualHash', () => {
  it('gives 16 hex digits with the DC bit clear', async () => {
    const hash = await perceptualHash(await scenePng(1));
    expect(hash).toMatch(/^[0-7][0-9a-f]{15}$/);
  });

  it('gives distance 0 for the same picture, even re-encoded as JPEG', async () => {
    const png = await scenePng(2);
    const jpeg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
    expect(hammingDistance(await perceptualHash(png), await perceptualHash(png))).toBe(0);
    expect(hammingDistance(await perceptualHash(png), await perceptualHash(jpeg))).toBeLessThanOrEqual(2);
  });

  it('moves only a few bits for a slight blur or brightness change', async () => {
    const png = await scenePng(3);
    const hash = await perceptualHash(png);
    const blurred = await perceptualHash(await sharp(png).blur(1.5).png().toBuffer());
    const brighter = await perceptualHash(await sharp(png).modulate({ brightness: 1.08 }).png().toBuffer());
    const resized = await perceptualHash(await sharp(png).resize(96, 72).png().toBuffer());
    expect(hammingDistance(hash, blurred)).toBeLessThanOrEqual(6);
    expect(hammingDistance(hash, brighter)).toBeLessThanOrEqual(6);
    expect(hammingDistance(hash, resized)).toBeLessThanOrEqual(6);
  });

  it('sets many bits apart for unrelated pictures', async () => {
    const a = await perceptualHash(await scenePng(4));
    const b = await perceptualHash(await scenePng(5));
    expect(hammingDistance(a, b)).toBeGreaterThanOrEqual(16);
  });

  it('refuses bytes that are not an image', async () => {
    await expect(perceptualHash(Buffer.from('not an image'))).rejects.toThrow();
  });
});

describe('hammingDistance', () => {
  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('0000000000000001', '0000000000000003')).toBe(1);
  });

  it('refuses malformed hashes with a message naming them', () => {
    expect(() => hammingDistance('xyz', '0000000000000000')).toThrow("Expected a 16-digit hex perceptual hash but received 'xyz'");
  });
});

describe('batchDiversity', () => {
  it('is 0 for a batch of copies and for a single image', async () => {
    const hash = await perceptualHash(await scenePng(6));
    expect(batchDiversity([hash, hash, hash])).toBe(0);
    expect(batchDiversity([hash])).toBe(0);
  });

  it('is above 0.3 for a batch of different pictures', async () => {
    const hashes = await Promise.all([7, 8, 9, 10].map(async (seed) => perceptualHash(await scenePng(seed))));
    expect(batchDiversity(hashes)).toBeGreaterThan(0.3);
    expect(batchDiversity(hashes)).toBeLessThanOrEqual(1);
  });

  it('is the mean pairwise distance over 64', () => {
    expect(batchDiversity(['0000000000000000', '000000000000000f', '00000000000000ff'])).toBeCloseTo((4 + 8 + 4) / 3 / 64, 12);
  });
});
