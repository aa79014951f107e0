import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validatePresets, type DeliveryPreset } from '../../../src/media/image/presets.js';
import { deliveryTargets, renderDerivatives } from '../../../src/media/image/variants.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { STUDIO } from './studio-preset.js';

const one = (preset: unknown): DeliveryPreset => validatePresets([preset])[0]!;
const studio = one(STUDIO);

/** Flat grey with a saturated red square centred at (cx, cy): the one salient thing in the picture. */
async function greyWithRedSquare(width: number, height: number, cx: number, cy: number, side: number): Promise<Buffer> {
  const square = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: square, left: cx - side / 2, top: cy - side / 2 }])
    .png()
    .toBuffer();
}

/** How many pixels of an encoded image are clearly red. */
async function redPixels(encoded: Buffer): Promise<number> {
  const { data } = await sharp(encoded).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let count = 0;
  for (let i = 0; i < data.length; i += 3) if (data[i]! > 180 && data[i + 1]! < 80 && data[i + 2]! < 80) count += 1;
  return count;
}

afterEach(() => vi.restoreAllMocks());

describe('delivery variants of a preset', () => {
  it("render issue #17's studio preset: JPEG normal, AVIF high, a 256² WebP square — each decodes back as stated", async () => {
    // Smaller than high's box, so the AVIF encode stays quick: high keeps the source size.
    const { variants, metrics } = await renderDerivatives(await greyWithRedSquare(1200, 675, 600, 338, 100), studio);
    expect(variants.map((v) => [v.name, v.format, v.width, v.height])).toEqual([
      ['normal', 'jpeg', 768, 432],
      ['high', 'avif', 1200, 675],
      ['square', 'webp', 256, 256],
    ]);
    for (const variant of variants) {
      const meta = await sharp(variant.data).metadata();
      // libvips reports AVIF as its container, HEIF, with the AV1 compression inside.
      expect([meta.format === 'heif' ? `heif/${meta.compression}` : meta.format, meta.width, meta.height]).toEqual([variant.format === 'avif' ? 'heif/av1' : variant.format, variant.width, variant.height]);
      expect(variant.bytes).toBe(variant.data.length);
    }
    expect(metrics.variant_bytes).toEqual({ normal: variants[0]!.bytes, high: variants[1]!.bytes, square: variants[2]!.bytes });
  });

  it('encodes normal as a progressive JPEG unless the preset says otherwise', async () => {
    const png = await greyWithRedSquare(800, 600, 400, 300, 100);
    const quick = { ...STUDIO, high: { ...STUDIO.high, format: 'webp', effort: 0 } };
    const progressive = (await renderDerivatives(png, one(quick))).variants[0]!;
    expect((await sharp(progressive.data).metadata()).isProgressive).toBe(true);
    const baseline = (await renderDerivatives(png, one({ ...quick, normal: { ...STUDIO.normal, progressive: false } }))).variants[0]!;
    expect((await sharp(baseline.data).metadata()).isProgressive).toBe(false);
  });

  it('makes normal and high in any format: WebP normal, JPEG high', async () => {
    const preset = one({ name: 'flipped', normal: { width: 400, height: 400, format: 'webp', quality: 70, effort: 0 }, high: { width: 800, height: 800, format: 'jpeg', quality: 90 } });
    const { variants } = await renderDerivatives(await greyWithRedSquare(1000, 1000, 500, 500, 100), preset);
    const formats = await Promise.all(variants.map(async (v) => (await sharp(v.data).metadata()).format));
    expect(formats).toEqual(['webp', 'jpeg']);
  });

  it('keeps the salient region in an attention crop, where a centre crop loses it', async () => {
    // The red square sits near the right edge; a centred 256² crop of the 512×256 scaled picture misses it.
    const png = await greyWithRedSquare(2048, 1024, 1800, 512, 240);
    const crop = (position: string) => one({ ...STUDIO, high: { ...STUDIO.high, format: 'webp', effort: 0 }, extra: [{ ...STUDIO.extra[0], position }] });
    const attention = (await renderDerivatives(png, crop('attention'))).variants[2]!;
    const centre = (await renderDerivatives(png, crop('centre'))).variants[2]!;
    expect([attention.width, attention.height, centre.width, centre.height]).toEqual([256, 256, 256, 256]);
    // The whole square (240/4 = 60 px a side at this scale) is in the attention crop…
    expect(await redPixels(attention.data)).toBeGreaterThan(0.9 * 60 * 60);
    // …and none of it in the centre crop (control: the picture really needs a smart crop).
    expect(await redPixels(centre.data)).toBe(0);
  });

  it('crops to the exact box, and never enlarges a source smaller than it (keeping the box shape)', async () => {
    const banner = one({ ...STUDIO, high: { ...STUDIO.high, format: 'webp', effort: 0 }, extra: [{ name: 'banner', width: 600, height: 200, fit: 'cover', position: 'entropy', format: 'jpeg', quality: 80 }] });
    const wide = await renderDerivatives(await greyWithRedSquare(1000, 1000, 500, 500, 100), banner);
    expect([wide.variants[2]!.width, wide.variants[2]!.height]).toEqual([600, 200]);
    const small = await renderDerivatives(await greyWithRedSquare(300, 300, 150, 150, 50), banner);
    expect([small.variants[2]!.width, small.variants[2]!.height]).toEqual([300, 100]);
    expect(deliveryTargets({ width: 300, height: 300 }, banner).map((t) => [t.name, t.size.width, t.size.height])).toEqual([
      ['normal', 300, 300],
      ['high', 300, 300],
      ['banner', 300, 100],
    ]);
  });

  it('decodes the source once for thumbnail, normal, high and every extra variant', async () => {
    const { dir, remove } = await makeTempDir();
    try {
      const file = join(dir, 'source.png');
      await writeFile(file, await greyWithRedSquare(1200, 800, 600, 400, 100));
      const preset = one({ ...STUDIO, high: { width: 1536, height: 1536, format: 'webp', quality: 80, effort: 0 }, extra: [...STUDIO.extra, { name: 'wide', width: 1000, height: 300, fit: 'cover', position: 'centre', format: 'jpeg', quality: 80 }] });
      // Every sharp() call on the source file is a decode of it; raw-pixel pipelines are not.
      const calls: unknown[] = [];
      const original = sharp.prototype.toBuffer;
      vi.spyOn(sharp.prototype, 'toBuffer').mockImplementation(function (this: sharp.Sharp, ...args: any[]) {
        calls.push((this as any).options.input.file);
        return original.apply(this, args as any) as any;
      });
      const { variants } = await renderDerivatives(file, preset);
      expect(variants.map((v) => v.name)).toEqual(['normal', 'high', 'square', 'wide']);
      expect(calls.filter((input) => input === file)).toHaveLength(1);
      expect([variants[3]!.width, variants[3]!.height]).toEqual([1000, 300]);
    } finally {
      await remove();
    }
  });
});
