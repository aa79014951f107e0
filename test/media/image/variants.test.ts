import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { classifyMediaError, MediaError } from '../../../src/media/image/media-error.js';
import { DEFAULT_PRESETS, type DeliveryPreset } from '../../../src/media/image/presets.js';
import { makeThumbnail } from '../../../src/media/image/thumbnail.js';
import { renderDerivatives } from '../../../src/media/image/variants.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const preset = (name: string): DeliveryPreset => DEFAULT_PRESETS.find((p) => p.name === name)!;

/** Noise, so encoders cannot shrink it to nothing and quality settings show in the size. */
function noisePng(width: number, height: number, channels: 3 | 4 = 3): Promise<Buffer> {
  return sharp({ create: { width, height, channels, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png({ compressionLevel: 1 }).toBuffer();
}

afterEach(() => vi.restoreAllMocks());

describe('renderDerivatives', () => {
  it('fits every output inside its box, aspect preserved, in the preset formats', async () => {
    const derivatives = await renderDerivatives(await noisePng(2400, 1600), preset('dall-e'));
    const [normal, high] = derivatives.variants;
    expect([normal?.name, normal?.format, normal?.width, normal?.height]).toEqual(['normal', 'jpeg', 1024, 683]);
    expect([high?.name, high?.format, high?.width, high?.height]).toEqual(['high', 'webp', 2048, 1365]);
    expect([derivatives.thumbnail.width, derivatives.thumbnail.height]).toEqual([256, 171]);

    for (const [output, format] of [[normal!, 'jpeg'], [high!, 'webp'], [derivatives.thumbnail, 'webp']] as const) {
      const meta = await sharp(output.data).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([format, output.width, output.height]);
      // Aspect 3:2 kept to within a pixel of rounding.
      expect(Math.abs(output.height - (output.width * 1600) / 2400)).toBeLessThanOrEqual(1);
    }
  });

  it('fits portrait images by height and respects non-square boxes', async () => {
    const { variants, thumbnail } = await renderDerivatives(await noisePng(1000, 2000), preset('sora'));
    expect(variants.map((v) => [v.width, v.height])).toEqual([
      [360, 720],
      [540, 1080],
    ]);
    expect([thumbnail.width, thumbnail.height]).toEqual([128, 256]);
  });

  it('never enlarges: a 600×400 source keeps its size in every dall-e variant', async () => {
    const { variants, thumbnail } = await renderDerivatives(await noisePng(600, 400), preset('dall-e'));
    expect(variants.map((v) => [v.name, v.width, v.height])).toEqual([
      ['normal', 600, 400],
      ['high', 600, 400],
    ]);
    expect([thumbnail.width, thumbnail.height]).toEqual([256, 171]);
  });

  it('makes the same thumbnail size as makeThumbnail, as WEBP', async () => {
    for (const [w, h] of [[1024, 512], [384, 640], [100, 50], [999, 333]] as const) {
      const png = await noisePng(w, h);
      const [ours, reference] = await Promise.all([renderDerivatives(png, preset('stable-diffusion')), makeThumbnail(png)]);
      expect([ours.thumbnail.width, ours.thumbnail.height]).toEqual([reference.width, reference.height]);
      expect((await sharp(ours.thumbnail.data).metadata()).format).toBe('webp');
    }
  });

  it('honours the JPEG quality: q80 is smaller than q95 of the same image', async () => {
    const png = await noisePng(800, 800);
    const q80 = await renderDerivatives(png, preset('stable-diffusion'));
    const q95 = await renderDerivatives(png, { ...preset('stable-diffusion'), normal: { ...preset('stable-diffusion').normal, quality: 95 } });
    expect(q80.variants[0]!.bytes).toBeLessThan(q95.variants[0]!.bytes * 0.8);
  });

  it('reports sizes and the compression ratio', async () => {
    const png = await noisePng(1200, 900);
    const { variants, metrics } = await renderDerivatives(png, preset('stable-diffusion'));
    expect(variants.map((v) => v.bytes)).toEqual(variants.map((v) => v.data.length));
    expect(metrics.original_bytes).toBe(png.length);
    expect(metrics.variant_bytes).toEqual({ normal: variants[0]!.bytes, high: variants[1]!.bytes });
    expect(metrics.compression_ratio).toBeCloseTo(png.length / (variants[0]!.bytes + variants[1]!.bytes), 6);
    expect(metrics.processing_ms).toBeGreaterThan(0);
  });

  it('reads a file path source', async () => {
    const temp = await makeTempDir();
    try {
      const file = join(temp.dir, 'source.png');
      const png = await noisePng(700, 300);
      await writeFile(file, png);
      const { variants, metrics } = await renderDerivatives(file, preset('stable-diffusion'));
      expect(variants.map((v) => [v.width, v.height])).toEqual([
        [700, 300],
        [700, 300],
      ]);
      expect(metrics.original_bytes).toBe(png.length);
    } finally {
      await temp.remove();
    }
  });

  it('applies EXIF orientation before fitting', async () => {
    // Stored 400×200, displayed rotated a quarter turn: 200×400.
    const jpeg = await sharp(await noisePng(400, 200)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const { variants } = await renderDerivatives(jpeg, preset('dall-e'));
    expect([variants[0]!.width, variants[0]!.height]).toEqual([200, 400]);
  });

  it('flattens transparency onto white in the JPEG and keeps it in the WebP', async () => {
    const clear = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const { variants } = await renderDerivatives(clear, preset('dall-e'));
    const jpeg = await sharp(variants[0]!.data).raw().toBuffer();
    expect(Math.min(...jpeg.subarray(0, 30))).toBeGreaterThan(245);
    expect((await sharp(variants[1]!.data).metadata()).hasAlpha).toBe(true);
  });

  it('decodes the source exactly once for all three outputs', async () => {
    const decodes = countDecodes();
    await renderDerivatives(await noisePng(1500, 1000), preset('dall-e'));
    expect(decodes.encoded).toBe(1);
    expect(decodes.raw).toBe(3);
  });

  it('the decode count would catch a pipeline per output (control)', async () => {
    const png = await noisePng(1500, 1000);
    const decodes = countDecodes();
    // What a naive implementation does, with or without clone(): each output re-reads the PNG.
    const base = sharp(png);
    await Promise.all([base.clone().resize(256, 256, { fit: 'inside' }).webp().toBuffer(), sharp(png).jpeg().toBuffer(), base.clone().webp().toBuffer()]);
    expect(decodes.encoded).toBe(3);
  });

  describe('bad sources', () => {
    async function failure(source: Buffer | string, options = {}): Promise<MediaError> {
      const error = await renderDerivatives(source, preset('dall-e'), options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MediaError);
      return error as MediaError;
    }

    it('classifies garbage bytes as a source error', async () => {
      const error = await failure(Buffer.from('definitely not an image, just some text'));
      expect(classifyMediaError(error)).toBe('source');
    });

    it('classifies a truncated PNG as a source error', async () => {
      const png = await noisePng(512, 512);
      const error = await failure(png.subarray(0, Math.floor(png.length / 2)));
      expect(error.errorClass).toBe('source');
    });

    it('classifies a JPEG cut short as a source error', async () => {
      const jpeg = await sharp(await noisePng(512, 512)).jpeg().toBuffer();
      expect((await failure(jpeg.subarray(0, Math.floor(jpeg.length / 3)))).errorClass).toBe('source');
    });

    it('refuses SVG and other formats before decoding them', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
      const error = await failure(svg);
      expect(error.errorClass).toBe('source');
      expect(error.message).toContain('svg');
      const tiff = await sharp(await noisePng(16, 16)).tiff().toBuffer();
      expect((await failure(tiff)).message).toContain('tiff');
    });

    it('refuses more pixels than allowed (decompression bombs)', async () => {
      const error = await failure(await noisePng(300, 300), { maxInputPixels: 200 * 200 });
      expect(error.errorClass).toBe('source');
    });

    it('classifies a missing file as a source error', async () => {
      expect((await failure('/nonexistent/atelier/source.png')).errorClass).toBe('source');
    });
  });
});

/**
 * Counts sharp pipelines run (`toBuffer`) by input kind: `encoded` pipelines read the PNG/JPEG
 * itself (a decode), `raw` ones read pixels already decoded. clone() copies the input, so a
 * clone per output still counts as one decode each.
 */
function countDecodes(): { encoded: number; raw: number } {
  const counts = { encoded: 0, raw: 0 };
  type Pipeline = { options: { input: { rawChannels?: number; createChannels?: number } }; toBuffer: (...args: unknown[]) => unknown };
  const prototype = sharp.prototype as unknown as Pipeline;
  const original = prototype.toBuffer;
  vi.spyOn(prototype, 'toBuffer').mockImplementation(function (this: Pipeline, ...args: unknown[]) {
    const { input } = this.options;
    if (input.rawChannels !== undefined) counts.raw++;
    else if (input.createChannels === undefined) counts.encoded++;
    return original.apply(this, args);
  });
  return counts;
}
