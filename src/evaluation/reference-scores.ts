import sharp from 'sharp';
import { centerCropTo, FLATTEN_BACKGROUND } from '../media/image/center-crop.js';
import { psnr, ssim } from '../media/image/similarity.js';

/** How an image-to-image output compares with the reference it was made from. */
export interface ReferenceScores {
  /** Mean SSIM on luma, −1…1 (1 = identical). */
  readonly ssim: number;
  /** PSNR in dB over RGB; `Infinity` when the pixels are identical. */
  readonly psnr: number;
  /** The size compared: the output's. */
  readonly width: number;
  readonly height: number;
}

/**
 * SSIM and PSNR of an output against its reference. The reference is center-cropped to the
 * output's size exactly as the i2i pipeline prepares it (SPEC §3, {@link centerCropTo}), so an
 * exact copy scores as near-identical rather than being penalised for the crop.
 *
 * Cost: SSIM is O(pixels × 11) in plain JS, about a second for a 1024² image.
 *
 * @throws Error (from sharp) when either image does not decode.
 * @example const { ssim, psnr } = await referenceScores(outputPng, referenceBytes) // 0.93, 31.2
 */
export async function referenceScores(output: Buffer, reference: Buffer): Promise<ReferenceScores> {
  // Decoded the way centerCropTo decodes, so both sides see the same colour handling.
  const { data, info } = await sharp(output, { failOn: 'error' })
    .rotate()
    .flatten({ background: FLATTEN_BACKGROUND })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`Expected an RGB output but libvips produced ${info.channels} channels`);
  const { width, height } = info;
  const cropped = await centerCropTo(reference, width, height);
  return { ssim: ssim(data, cropped, width, height), psnr: psnr(data, cropped, width, height), width, height };
}
