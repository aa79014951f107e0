import sharp from 'sharp';

/**
 * Transparent areas are flattened onto black: it is what Pillow's `convert('RGB')` gives for
 * the usual fully transparent (0,0,0,0) pixels, so an RGBA reference looks here as it would
 * to a diffusers or A1111 worker.
 */
export const FLATTEN_BACKGROUND = { r: 0, g: 0, b: 0 } as const;

/**
 * Resize policy `center_crop` (SPEC §3): scales the image to cover `width`×`height`, crops the
 * overflow evenly from both sides and returns raw 8-bit RGB (`width * height * 3` bytes,
 * row-major, interleaved). The EXIF orientation is applied first, alpha is flattened onto
 * black ({@link FLATTEN_BACKGROUND}) and grey images are expanded to three channels.
 *
 * @throws Error (from sharp) when the bytes do not decode; callers turn that into their own error.
 * @example const rgb = await centerCropTo(reference, 1024, 576) // 1024*576*3 bytes
 */
export async function centerCropTo(bytes: Buffer, width: number, height: number): Promise<Buffer> {
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .rotate() // EXIF orientation: crop what the user sees, not the sensor's raw layout
    .flatten({ background: FLATTEN_BACKGROUND })
    .resize(width, height, { fit: 'cover', position: 'centre' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`Expected a ${width}x${height} RGB crop but libvips produced ${info.width}x${info.height}x${info.channels}`);
  }
  return data;
}
