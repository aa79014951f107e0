import sharp from 'sharp';

/** Longest edge of a thumbnail: enough for a gallery grid on a high-DPI screen. */
export const THUMBNAIL_MAX_EDGE = 256;
/** WEBP quality of thumbnails (SPEC §4). */
export const THUMBNAIL_WEBP_QUALITY = 85;

/** An encoded WEBP thumbnail and its actual size. */
export interface Thumbnail {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * Makes a WEBP thumbnail at most 256 px on its longest edge, keeping the aspect ratio and never
 * enlarging a smaller image (an upscaled thumbnail only costs bytes and looks worse).
 *
 * @example const { data, width, height } = await makeThumbnail(png) // 1024×512 → 256×128
 */
export async function makeThumbnail(input: Buffer): Promise<Thumbnail> {
  const { data, info } = await sharp(input)
    .resize(THUMBNAIL_MAX_EDGE, THUMBNAIL_MAX_EDGE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: THUMBNAIL_WEBP_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
