import sharp from 'sharp';
import { THUMBNAIL_MAX_EDGE, THUMBNAIL_WEBP_QUALITY, type Thumbnail } from '../image/thumbnail.js';

/**
 * A video thumbnail (256 px on the longest edge, WEBP q85, never enlarged) from one raw RGB
 * frame already in memory — what an encoder that holds the frames can make without decoding
 * the file it writes: a few milliseconds instead of a seek and a GOP's worth of decoding.
 *
 * @example const thumb = await thumbnailFromRgb(frame, 1920, 1080) // 256×144 WEBP
 */
export async function thumbnailFromRgb(rgb: Buffer, width: number, height: number): Promise<Thumbnail> {
  const { data, info } = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(THUMBNAIL_MAX_EDGE, THUMBNAIL_MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: THUMBNAIL_WEBP_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
