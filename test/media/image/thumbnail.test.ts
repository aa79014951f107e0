import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import { makeThumbnail } from '../../../src/media/image/thumbnail.js';

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .png()
    .toBuffer();

describe('makeThumbnail', () => {
  it('scales the longest edge to 256 px, keeps the aspect ratio and encodes WEBP', async () => {
    const thumb = await makeThumbnail(await png(1024, 512));
    const meta = await sharp(thumb.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 128]);
    expect([thumb.width, thumb.height]).toEqual([256, 128]);
  });

  it('fits portrait images by height', async () => {
    const thumb = await makeThumbnail(await png(384, 640));
    expect([thumb.width, thumb.height]).toEqual([154, 256]);
  });

  it('never enlarges a small image', async () => {
    const thumb = await makeThumbnail(await png(100, 50));
    const meta = await sharp(thumb.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 100, 50]);
    expect([thumb.width, thumb.height]).toEqual([100, 50]);
  });
});
