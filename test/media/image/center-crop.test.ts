import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { centerCropTo } from '../../../src/media/image/center-crop.js';

/** A wide image: left third red, middle green, right third blue. */
async function stripes(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const third = Math.floor((x * 3) / width);
      raw[(y * width + x) * 3 + third] = 255;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

const pixel = (rgb: Buffer, width: number, x: number, y: number) => [...rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];

describe('centerCropTo', () => {
  it('covers the target and crops the overflow evenly from both sides', async () => {
    // 300×100 → 100×100: scale 1, keep the middle third (green) only.
    const rgb = await centerCropTo(await stripes(300, 100), 100, 100);
    expect(rgb.length).toBe(100 * 100 * 3);
    for (const [x, y] of [[0, 0], [50, 50], [99, 99]] as const) expect(pixel(rgb, 100, x, y)).toEqual([0, 255, 0]);
  });

  it('scales up to cover a larger target', async () => {
    const rgb = await centerCropTo(await stripes(90, 30), 180, 30); // scale 2 → 180×60: rows cropped, all three stripes kept
    expect(rgb.length).toBe(180 * 30 * 3);
    expect(pixel(rgb, 180, 5, 15)).toEqual([255, 0, 0]);
    expect(pixel(rgb, 180, 175, 15)).toEqual([0, 0, 255]);
    const tall = await centerCropTo(await stripes(90, 30), 60, 120); // scale 4 → 360×120, keep x 150–210 (green)
    expect(pixel(tall, 60, 0, 0)).toEqual([0, 255, 0]);
    expect(pixel(tall, 60, 59, 119)).toEqual([0, 255, 0]);
  });

  it('flattens transparency onto black and expands grey to RGB', async () => {
    const transparent = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } }).png().toBuffer();
    expect(pixel(await centerCropTo(transparent, 10, 10), 10, 5, 5)).toEqual([0, 0, 0]);
    const grey = await sharp(Buffer.alloc(400, 77), { raw: { width: 20, height: 20, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect(pixel(await centerCropTo(grey, 10, 10), 10, 5, 5)).toEqual([77, 77, 77]);
  });

  it('applies the EXIF orientation before cropping', async () => {
    // Stored 300×100 with orientation 6 (rotate 90° clockwise): displayed 100×300, stripes run top to bottom.
    const rotated = await sharp(await stripes(300, 100)).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const rgb = await centerCropTo(rotated, 100, 300);
    const [r, g, b] = pixel(rgb, 100, 50, 20);
    expect(r! > 200 && g! < 60 && b! < 60).toBe(true); // top third is red
  });
});
