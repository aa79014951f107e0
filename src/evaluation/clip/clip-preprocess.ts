import { centerCropTo } from '../../media/image/center-crop.js';

/** CLIP ViT input side. */
export const CLIP_IMAGE_SIZE = 224;
/** OpenAI CLIP's per-channel normalisation (RGB), as in every `openai/clip-vit-*` preprocessor. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/**
 * CLIP's `pixel_values` for one image: float32, `[1, 3, size, size]` flattened (planar RGB),
 * each value `(byte / 255 − mean) / std`. The image is scaled so its shorter side is `size`
 * and center-cropped (the same cover-and-crop as {@link centerCropTo}); libvips' Lanczos
 * resampling stands in for PIL's bicubic, a difference well below what CLIP notices.
 *
 * @example const pixels = await clipPixelValues(png) // Float32Array(150528)
 */
export async function clipPixelValues(image: Buffer, size = CLIP_IMAGE_SIZE): Promise<Float32Array> {
  const rgb = await centerCropTo(image, size, size);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i += 1) {
    for (let c = 0; c < 3; c += 1) out[c * plane + i] = (rgb[i * 3 + c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
  }
  return out;
}
