import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeneratedImage } from '../../../src/backends/backend.js';
import { processGeneratedImage } from '../../../src/media/image/process-generated-image.js';
import { validatePresets, type DeliveryPreset } from '../../../src/media/image/presets.js';
import { renderDerivatives } from '../../../src/media/image/variants.js';
import { makeSpec } from '../../helpers/backend-spec.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const GREY = { r: 100, g: 110, b: 120 };
const MAGENTA = { r: 255, g: 0, b: 255 };
const base = {
  normal: { width: 600, height: 600, format: 'jpeg', quality: 95 },
  high: { width: 1000, height: 1000, format: 'webp', quality: 95, effort: 0 },
  extra: [{ name: 'square', width: 200, height: 200, fit: 'cover', position: 'centre', format: 'avif', quality: 90, effort: 0 }],
};
const flatPng = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: GREY } }).png().toBuffer();

/** The mean RGB of a region of an encoded image, given as fractions of its size. */
async function meanOf(encoded: Buffer, region: { left: number; top: number; width: number; height: number }): Promise<[number, number, number]> {
  const { width, height } = await sharp(encoded).metadata();
  const { data } = await sharp(encoded)
    .removeAlpha()
    .extract({ left: Math.round(region.left * width), top: Math.round(region.top * height), width: Math.round(region.width * width), height: Math.round(region.height * height) })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 3) for (let c = 0; c < 3; c++) sum[c] = sum[c]! + data[i + c]!;
  return sum.map((s) => s / (data.length / 3)) as [number, number, number];
}

const near = (actual: number[], expected: { r: number; g: number; b: number }, tolerance: number) =>
  [expected.r, expected.g, expected.b].every((value, c) => Math.abs(actual[c]! - value) <= tolerance);

describe('watermarks', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let logo: DeliveryPreset;
  beforeAll(async () => {
    ({ dir, remove } = await makeTempDir());
    const file = join(dir, 'logo.png');
    await writeFile(file, await sharp({ create: { width: 100, height: 50, channels: 4, background: { ...MAGENTA, alpha: 1 } } }).png().toBuffer());
    logo = validatePresets([{ name: 'marked', ...base, watermark: { image: file, position: 'south-east', opacity: 1, size: 0.25 } }])[0]!;
  });
  afterAll(() => remove());

  it('draws an image mark in the chosen corner of every delivered variant, the rest of the picture untouched', async () => {
    const { variants } = await renderDerivatives(await flatPng(1200, 800), logo);
    expect(variants.map((v) => [v.name, v.width, v.height])).toEqual([
      ['normal', 600, 400],
      ['high', 1000, 667],
      ['square', 200, 200],
    ]);
    for (const variant of variants) {
      // The mark is 25% of the width, in the bottom-right corner inside a 2% margin.
      expect(near(await meanOf(variant.data, { left: 0.8, top: 0.9, width: 0.1, height: 0.05 }), MAGENTA, 12), variant.name).toBe(true);
      expect(near(await meanOf(variant.data, { left: 0, top: 0, width: 0.5, height: 0.5 }), GREY, 4), variant.name).toBe(true);
      expect(near(await meanOf(variant.data, { left: 0.05, top: 0.85, width: 0.2, height: 0.1 }), GREY, 4), variant.name).toBe(true);
    }
    // JPEG and the opaque source stay three-band: the mark's alpha is not encoded.
    expect((await sharp(variants[2]!.data).metadata()).hasAlpha).toBe(false);
  });

  it('blends by opacity and goes where the position says', async () => {
    const half = validatePresets([{ name: 'half', ...base, watermark: { image: logo.watermark!.image, position: 'north-west', opacity: 0.5, size: 0.25 } }])[0]!;
    const normal = (await renderDerivatives(await flatPng(1200, 800), half)).variants[0]!;
    const halfway = { r: (GREY.r + MAGENTA.r) / 2, g: (GREY.g + MAGENTA.g) / 2, b: (GREY.b + MAGENTA.b) / 2 };
    expect(near(await meanOf(normal.data, { left: 0.05, top: 0.05, width: 0.1, height: 0.05 }), halfway, 12)).toBe(true);
    expect(near(await meanOf(normal.data, { left: 0.6, top: 0.6, width: 0.3, height: 0.3 }), GREY, 4)).toBe(true);
  });

  it('draws text: the south-east corner changes, the rest does not', async () => {
    const text = validatePresets([{ name: 'text', ...base, watermark: { text: '© Atelier', opacity: 1, size: 0.4 } }])[0]!;
    const plain = validatePresets([{ name: 'plain', ...base }])[0]!;
    const png = await flatPng(1200, 800);
    const [marked, clean] = await Promise.all([renderDerivatives(png, text), renderDerivatives(png, plain)]);
    const corner = { left: 0.58, top: 0.8, width: 0.4, height: 0.18 };
    const [a, b] = await Promise.all([meanOf(marked.variants[1]!.data, corner), meanOf(clean.variants[1]!.data, corner)]);
    // White glyphs over a dark shadow: the corner's mean moves by several levels at least.
    expect(Math.max(...a.map((v, c) => Math.abs(v - b[c]!)))).toBeGreaterThan(8);
    expect(near(await meanOf(marked.variants[1]!.data, { left: 0, top: 0, width: 0.5, height: 0.6 }), GREY, 4)).toBe(true);
  });

  it('never marks the original or the thumbnail', async () => {
    const png = await flatPng(1200, 800);
    const image: GeneratedImage = { kind: 'image', index: 0, seed: 7, width: 1200, height: 800, data: png };
    const processed = await processGeneratedImage(image, makeSpec({ width: 1200, height: 800 }), { preset: logo });
    const original = await sharp(processed.original).raw().toBuffer();
    const source = await sharp(png).raw().toBuffer();
    expect(original.equals(source)).toBe(true);
    expect(near(await meanOf(processed.thumbnail, { left: 0.75, top: 0.85, width: 0.2, height: 0.1 }), GREY, 3)).toBe(true);
    expect(near(await meanOf(processed.variants[0]!.data, { left: 0.8, top: 0.9, width: 0.1, height: 0.05 }), MAGENTA, 12)).toBe(true);
  });
});
