import { describe, expect, it } from 'vitest';
import { psnr, ssim } from '../../../src/media/image/similarity.js';

/** A smooth, structured test image (grey): diagonal gradient plus rings. */
function pattern(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const r = Math.hypot(x - width / 2, y - height / 2);
      out[y * width + x] = Math.round(127 + 60 * Math.sin(r / 4) + 60 * ((x + y) / (width + height) - 0.5));
    }
  }
  return out;
}

/** Deterministic uniform noise of amplitude ±amount added to an image. */
function withNoise(image: Uint8Array, amount: number, seed = 1): Uint8Array {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return image.map((v) => Math.max(0, Math.min(255, Math.round(v + rand() * amount))));
}

const W = 96;
const H = 64;

describe('ssim and psnr', () => {
  const image = pattern(W, H);

  it('score identical images 1 and Infinity', () => {
    expect(ssim(image, image, W, H)).toBeCloseTo(1, 10);
    expect(psnr(image, image, W, H)).toBe(Infinity);
  });

  it('drop monotonically as noise grows', () => {
    const light = withNoise(image, 8);
    const heavy = withNoise(image, 60);
    expect(ssim(image, light, W, H)).toBeLessThan(1);
    expect(ssim(image, light, W, H)).toBeGreaterThan(ssim(image, heavy, W, H));
    expect(ssim(image, heavy, W, H)).toBeLessThan(0.6);
    expect(psnr(image, light, W, H)).toBeGreaterThan(psnr(image, heavy, W, H));
  });

  it('match known values: PSNR of a constant error, SSIM of an inverted image', () => {
    const shifted = image.map((v) => v + 10);
    // MSE = 100 → 10·log10(255² / 100) = 28.13 dB
    expect(psnr(image, shifted, W, H)).toBeCloseTo(28.1308, 3);
    const black = new Uint8Array(W * H);
    const white = new Uint8Array(W * H).fill(255);
    expect(psnr(black, white, W, H)).toBeCloseTo(0, 10);
    // A flat image against a structured one has no shared structure: SSIM far below 1.
    expect(ssim(image, new Uint8Array(W * H).fill(127), W, H)).toBeLessThan(0.3);
    expect(ssim(image, image.map((v) => 255 - v), W, H)).toBeLessThan(0);
  });

  it('compare RGB on its luma: a grey copy with the same luma scores ~1, noise does not', () => {
    const rgb = new Uint8Array(W * H * 3);
    image.forEach((v, i) => rgb.set([v, 255 - v, (v * 7) % 256], i * 3));
    expect(ssim(rgb, rgb, W, H)).toBeCloseTo(1, 10);
    const grey = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) {
      const luma = Math.round(0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!);
      grey.set([luma, luma, luma], i);
    }
    expect(ssim(rgb, grey, W, H)).toBeGreaterThan(0.99);
    expect(psnr(rgb, grey, W, H)).toBeLessThan(20); // PSNR sees every channel, so the colour loss shows
    expect(ssim(rgb, withNoise(rgb, 40), W, H)).toBeLessThan(0.9);
  });

  it('refuses mismatched buffers', () => {
    expect(() => ssim(image, image.subarray(1), W, H)).toThrow(/equal size/);
    expect(() => psnr(image, image, W + 1, H)).toThrow(/bytes/);
  });
});
