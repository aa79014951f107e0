import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AtelierError } from '../../../src/errors/atelier-error.js';
import { probeInputImage, sniffImageFormat } from '../../../src/media/image/probe-input.js';
import { tallPng } from '../../helpers/tall-png.js';

const noisy = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 40, g: 90, b: 200, alpha: 0.5 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } });

/** A tiny PNG whose IHDR claims `width`×`height`, with a valid CRC: a decompression bomb's header. */
async function bombPng(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: 'red' } }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29); // CRC over "IHDR" + its 13 data bytes
  return png;
}

async function rejection(promise: Promise<unknown>): Promise<AtelierError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AtelierError);
  return error as AtelierError;
}

describe('probeInputImage', () => {
  it('describes an RGB PNG with seed 001 metadata', async () => {
    const png = await noisy(300, 200).png().toBuffer();
    const info = await probeInputImage(png);
    expect(info).toEqual({
      format: 'png',
      width: 300,
      height: 200,
      mode: 'RGB',
      has_alpha: false,
      aspect_ratio: 1.5,
      pixel_count: 60_000,
      file_size_bytes: png.length,
      sha256: createHash('sha256').update(png).digest('hex'),
    });
  });

  it('reports alpha and Pillow modes (RGBA, L, LA, P)', async () => {
    const rgba = await probeInputImage(await noisy(64, 48, 4).png().toBuffer());
    expect([rgba.mode, rgba.has_alpha, rgba.aspect_ratio]).toEqual(['RGBA', true, 1.3333]);
    const grey = await sharp(Buffer.alloc(32 * 32, 90), { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('b-w');
    expect((await probeInputImage(await grey.clone().png().toBuffer())).mode).toBe('L');
    expect((await probeInputImage(await grey.clone().jpeg().toBuffer())).mode).toBe('L');
    const greyAlpha = sharp(Buffer.alloc(32 * 32 * 2, 90), { raw: { width: 32, height: 32, channels: 2 } }).toColourspace('b-w');
    const la = await probeInputImage(await greyAlpha.png().toBuffer());
    expect([la.mode, la.has_alpha]).toEqual(['LA', true]);
    expect((await probeInputImage(await noisy(32, 32).png({ palette: true }).toBuffer())).mode).toBe('P');
  });

  it('accepts JPEG and WEBP', async () => {
    const jpeg = await probeInputImage(await noisy(320, 240).jpeg().toBuffer());
    expect([jpeg.format, jpeg.width, jpeg.height, jpeg.mode, jpeg.has_alpha]).toEqual(['jpeg', 320, 240, 'RGB', false]);
    const webp = await probeInputImage(await noisy(100, 400, 4).webp().toBuffer());
    expect([webp.format, webp.width, webp.height, webp.mode, webp.has_alpha, webp.aspect_ratio]).toEqual(['webp', 100, 400, 'RGBA', true, 0.25]);
  });

  it('judges the format by content alone (no name or content type is consulted)', async () => {
    const jpeg = await noisy(50, 50).jpeg().toBuffer();
    expect(sniffImageFormat(jpeg)).toBe('jpeg');
    expect((await probeInputImage(jpeg)).format).toBe('jpeg');
  });

  it('reports displayed dimensions for EXIF-rotated JPEGs', async () => {
    const rotated = await noisy(400, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const info = await probeInputImage(rotated);
    expect([info.width, info.height]).toEqual([100, 400]);
  });

  it.each([
    ['SVG text', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'), /SVG/],
    ['a GIF', Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'), /GIF/],
    ['random bytes', randomBytes(4096), /another format/],
    ['an empty file', Buffer.alloc(0), /empty/],
    ['text', Buffer.from('hello, this is not an image'), /another format/],
  ])('refuses %s as invalid_image', async (_, bytes, message) => {
    const error = await rejection(probeInputImage(bytes, { field: 'reference_image' }));
    expect([error.code, error.status, error.field]).toEqual(['invalid_image', 422, 'reference_image']);
    expect(error.message).toMatch(message);
  });

  it('refuses a file over maxBytes as image_too_large before anything else', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024, 0x20); // not even an image: size is checked first
    const error = await rejection(probeInputImage(big));
    expect([error.code, error.status]).toEqual(['image_too_large', 413]);
    const png = await noisy(64, 64).png().toBuffer();
    expect((await rejection(probeInputImage(png, { maxBytes: png.length - 1 }))).code).toBe('image_too_large');
    await expect(probeInputImage(png, { maxBytes: png.length })).resolves.toMatchObject({ width: 64 });
  });

  it('refuses a decompression bomb from its header, fast', async () => {
    const bomb = await bombPng(50_000, 50_000); // 2.5 gigapixels: 7.5 GB decoded
    expect(bomb.length).toBeLessThan(200);
    const started = performance.now();
    const error = await rejection(probeInputImage(bomb));
    expect(performance.now() - started).toBeLessThan(1000);
    expect([error.code, error.status]).toEqual(['image_too_many_pixels', 422]);
    expect(error.message).toContain('50000x50000');
  });

  it('refuses a real, highly compressible image over the pixel limit without decoding it', async () => {
    const flat = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: 'white' } }).png().toBuffer();
    const started = performance.now();
    const error = await rejection(probeInputImage(flat, { maxPixels: 40_000_000 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.code).toBe('image_too_many_pixels');
    await expect(probeInputImage(flat, { maxPixels: 48_000_000 })).resolves.toMatchObject({ pixel_count: 48_000_000 });
  });

  it.each([
    ['PNG', () => noisy(400, 300).png().toBuffer()],
    ['JPEG', () => noisy(400, 300).jpeg().toBuffer()],
    ['WEBP', () => noisy(400, 300).webp().toBuffer()],
  ])('refuses a truncated %s as invalid_image', async (_, make) => {
    const whole = await make();
    await expect(probeInputImage(whole)).resolves.toBeDefined();
    const error = await rejection(probeInputImage(whole.subarray(0, Math.floor(whole.length * 0.7))));
    expect(error.code).toBe('invalid_image');
    expect(error.message).toMatch(/corrupt/);
  });

  it('refuses a PNG whose header is valid but whose data is garbage', async () => {
    const png = Buffer.from(await noisy(200, 200).png().toBuffer());
    randomBytes(2000).copy(png, 200); // inside IDAT
    expect((await rejection(probeInputImage(png))).code).toBe('invalid_image');
  });
});

// Issue #14 §7: a valid 1×20 000 000 PNG (39 KB) took seconds of a libuv thread to decode.
describe('probeInputImage: shapes that are slow to decode', () => {
  it('refuses a 1×20 000 000 PNG (39 KB) from its header, by its longest side, without decoding it', async () => {
    for (const [width, height] of [
      [1, 20_000_000],
      [20_000_000, 1],
    ] as const) {
      const png = tallPng(width, height);
      expect(png.length).toBeLessThan(40_000);
      const started = performance.now();
      const error = await rejection(probeInputImage(png));
      expect(performance.now() - started).toBeLessThan(1000);
      expect([error.code, error.status]).toEqual(['image_too_many_pixels', 422]);
      expect(error.message).toBe(`Expected an image of at most 16384 pixels per side but received ${width}x${height}`);
    }
  });

  it('accepts a side of exactly maxEdge, and a longer one when maxEdge allows it', async () => {
    await expect(probeInputImage(tallPng(1, 16_384))).resolves.toMatchObject({ width: 1, height: 16_384, mode: '1' });
    expect((await rejection(probeInputImage(tallPng(1, 16_385)))).code).toBe('image_too_many_pixels');
    await expect(probeInputImage(tallPng(1, 20_000), { maxEdge: 20_000 })).resolves.toMatchObject({ height: 20_000 });
  });

  it('stops a decode that takes longer than decodeTimeoutSeconds and refuses the image', async () => {
    // Within the limits once maxEdge is lifted, and about 12 s to decode here.
    const slow = tallPng(1, 20_000_000);
    const error = await rejection(probeInputImage(slow, { maxEdge: 20_000_000, decodeTimeoutSeconds: 1 }));
    expect([error.code, error.status]).toEqual(['invalid_image', 422]);
    expect(error.message).toBe('The PNG image took longer than 1 s to decode');
  });
});
