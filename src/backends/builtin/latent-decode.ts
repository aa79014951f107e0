import sharp from 'sharp';
import type { Latent } from './target-field.js';

/** zlib level 6: near level 9's size on smooth images at a fraction of the time. */
const PNG_COMPRESSION_LEVEL = 6;

/** Quantises the latent (−1…1) to 8-bit RGB; only latent-sized, so cheap in JavaScript. */
export function toRgb8(latent: Latent): Buffer {
  const out = Buffer.alloc(latent.data.length);
  for (let i = 0; i < latent.data.length; i += 1) {
    out[i] = Math.round(Math.min(1, Math.max(0, (latent.data[i]! + 1) / 2)) * 255);
  }
  return out;
}

/** The latent upsampled with a smooth cubic kernel: the decoder's pixels before any encoding. */
function upsample(latent: Latent, width: number, height: number): sharp.Sharp {
  return sharp(toRgb8(latent), { raw: { width: latent.width, height: latent.height, channels: 3 } }).resize(width, height, {
    fit: 'fill',
    kernel: 'cubic',
  });
}

/**
 * The "VAE decode": upsamples the latent to the requested size with a smooth cubic kernel, in
 * libvips, to raw 8-bit RGB (`width * height * 3` bytes) for the PREVIEW mark, blends and frames.
 */
export async function decodeLatentToRgb(latent: Latent, width: number, height: number): Promise<Buffer> {
  return upsample(latent, width, height).raw().toBuffer();
}

/** Encodes raw 8-bit RGB as the renderer's PNG (same settings as every other output). */
export async function encodeRgbPng(rgb: Buffer, width: number, height: number): Promise<Buffer> {
  return encodePng(sharp(rgb, { raw: { width, height, channels: 3 } }));
}

function encodePng(image: sharp.Sharp): Promise<Buffer> {
  return image.png({ compressionLevel: PNG_COMPRESSION_LEVEL, adaptiveFiltering: true }).toBuffer();
}

/**
 * The "VAE encode": an RGB image (raw, 8-bit, `width`×`height`) downscaled to the latent's size
 * with libvips' anti-aliasing kernel and mapped to −1…1.
 */
export async function encodeRgbToLatent(rgb: Buffer, width: number, height: number, latentWidth: number, latentHeight: number): Promise<Latent> {
  const small = await sharp(rgb, { raw: { width, height, channels: 3 } }).resize(latentWidth, latentHeight, { fit: 'fill' }).raw().toBuffer();
  const data = new Float32Array(small.length);
  for (let i = 0; i < small.length; i += 1) data[i] = (small[i]! / 255) * 2 - 1;
  return { width: latentWidth, height: latentHeight, data };
}
