import { AtelierError } from '../errors/atelier-error.js';

export const ASPECT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/**
 * Maps an aspect ratio to a size with about `baseResolution²` pixels, both sides multiples
 * of 64 — the buckets SDXL-class models are trained on (1024 → 16:9 is 1344×768).
 */
export function sizeForAspectRatio(ratio: string, baseResolution: number): { width: number; height: number } {
  const match = /^(\d+):(\d+)$/.exec(ratio);
  if (!match || !(ASPECT_RATIOS as readonly string[]).includes(ratio)) {
    throw new AtelierError(
      'invalid_parameter',
      `Expected one of ${ASPECT_RATIOS.join(', ')} for aspect_ratio but received '${ratio}'`,
      { field: 'aspect_ratio' },
    );
  }
  return sizeForRatio(Number(match[1]) / Number(match[2]), baseResolution);
}

/**
 * A 64-px bucket of about `baseResolution²` pixels for any ratio — e.g. the ratio of an
 * input image, so a video or img2img keeps its reference's shape.
 */
export function sizeForRatio(r: number, baseResolution: number): { width: number; height: number } {
  const pixels = baseResolution * baseResolution;
  // Search the 64-multiples around the ideal sides for the closest ratio without exceeding
  // the trained pixel count (as SDXL's buckets do); plain rounding drifts by 10%+ at 512.
  const idealWidth = Math.sqrt(pixels * r) / 64;
  const idealHeight = idealWidth / r;
  let best = { width: 64, height: 64, error: Infinity };
  for (let w = Math.max(1, Math.floor(idealWidth) - 1); w <= Math.ceil(idealWidth) + 1; w++) {
    for (let h = Math.max(1, Math.floor(idealHeight) - 1); h <= Math.ceil(idealHeight) + 1; h++) {
      const area = (w * h * 4096) / pixels;
      const error = Math.abs(w / h - r) / r + Math.abs(area - 1) / 4;
      if (area <= 1 && error < best.error) best = { width: w * 64, height: h * 64, error };
    }
  }
  const { width, height } = best;
  return { width, height };
}
