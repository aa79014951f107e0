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
  const r = Number(match[1]) / Number(match[2]);
  const pixels = baseResolution * baseResolution;
  const width = Math.max(64, Math.round(Math.sqrt(pixels * r) / 64) * 64);
  const height = Math.max(64, Math.round(pixels / width / 64) * 64);
  return { width, height };
}
