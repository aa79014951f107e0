/**
 * Images the evaluation tests make for themselves: seeded, smooth "scenes" (so small edits
 * leave low frequencies alone and different seeds share nothing) and flat colours.
 */
import sharp from 'sharp';
import { mulberry32 } from '../../src/backends/builtin/prng.js';

/** Raw RGB of a seeded scene: a dozen coloured Gaussian blobs over a tilted gradient. */
export function sceneRgb(seed: number, width: number, height: number): Buffer {
  const rand = mulberry32(seed);
  const blobs = Array.from({ length: 12 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.08 + rand() * 0.2) * Math.min(width, height),
    c: [rand() * 255 - 128, rand() * 255 - 128, rand() * 255 - 128],
  }));
  const gx = rand() * 2 - 1;
  const gy = rand() * 2 - 1;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const base = 128 + 60 * (gx * (x / width - 0.5) + gy * (y / height - 0.5));
      for (let ch = 0; ch < 3; ch += 1) {
        let v = base;
        for (const b of blobs) v += b.c[ch]! * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r));
        raw[(y * width + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return raw;
}

/** PNG of {@link sceneRgb}. */
export function scenePng(seed: number, width = 192, height = 144): Promise<Buffer> {
  return rgbToPng(sceneRgb(seed, width, height), width, height);
}

/** PNG of seeded per-pixel noise: texture everywhere, unlike anything else. */
export function noisePng(seed: number, width: number, height: number): Promise<Buffer> {
  const rand = mulberry32(seed);
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = Math.floor(rand() * 256);
  return rgbToPng(raw, width, height);
}

/** A PNG of one flat colour. */
export function solidPng(width: number, height: number, rgb: readonly [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

export function rgbToPng(rgb: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
