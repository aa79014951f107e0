import { deriveSeed, mulberry32 } from './prng.js';
import type { Rgb } from './prompt-palette.js';
import type { Scene } from './scene.js';

/** A low-resolution RGB field, interleaved, values in the diffusion range −1…1. */
export interface Latent {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

const SALT_TEXTURE = 3;
/** Cells of the seeded cloud texture across the frame: coarse on purpose, it must stay soft. */
const TEXTURE_CELLS = 5;
const TEXTURE_AMOUNT = 0.14;
const VIGNETTE = 0.28;
const HORIZON_HAZE = 0.35;

const smoothstep = (e0: number, e1: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
};

/** Smoothly interpolated value noise: a few seeded numbers, no per-pixel randomness. */
function cloudTexture(seed: number): (u: number, v: number) => number {
  const rng = mulberry32(deriveSeed(seed, SALT_TEXTURE));
  const n = TEXTURE_CELLS + 1;
  const grid = Float32Array.from({ length: n * n }, () => rng());
  return (u, v) => {
    const gx = u * TEXTURE_CELLS;
    const gy = v * TEXTURE_CELLS;
    const x0 = Math.min(TEXTURE_CELLS - 1, Math.floor(gx));
    const y0 = Math.min(TEXTURE_CELLS - 1, Math.floor(gy));
    const fx = smoothstep(0, 1, gx - x0);
    const fy = smoothstep(0, 1, gy - y0);
    const at = (x: number, y: number) => grid[y * n + x]!;
    const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
    const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
    return top + (bottom - top) * fy;
  };
}

const mix = (a: Rgb, b: Rgb, t: number, channel: number) => a[channel]! + (b[channel]! - a[channel]!) * t;

/**
 * Paints the scene at latent resolution: the image the "denoiser" steers toward. This is the
 * only per-pixel JavaScript, and it runs on about 1/16 of the output pixels.
 */
export function renderTargetField(scene: Scene, width: number, height: number, seed: number): Latent {
  const data = new Float32Array(width * height * 3);
  const texture = cloudTexture(seed);
  const aspect = width / height;
  const sinA = Math.sin(scene.gradientAngle);
  const cosA = Math.cos(scene.gradientAngle);
  const rgb = [0, 0, 0];
  for (let py = 0; py < height; py += 1) {
    const v = (py + 0.5) / height;
    for (let px = 0; px < width; px += 1) {
      const u = (px + 0.5) / width;
      const along = smoothstep(0, 1, (u - 0.5) * sinA + (v - 0.5) * cosA + 0.5);
      const horizonY = scene.horizon + scene.horizonTilt * (u - 0.5);
      const ground = smoothstep(horizonY - scene.horizonSoftness, horizonY + scene.horizonSoftness, v);
      const depth = Math.min(1, Math.max(0, (v - horizonY) / Math.max(0.05, 1 - horizonY)));
      for (let c = 0; c < 3; c += 1) {
        const sky = mix(scene.skyTop, scene.skyBottom, along, c);
        rgb[c] = sky + (mix(scene.groundFar, scene.groundNear, depth, c) - sky) * ground;
      }
      // Atmospheric haze: the sky brightens toward the horizon, as at dusk.
      const haze = HORIZON_HAZE * Math.exp(-(((v - horizonY) / 0.12) ** 2));
      for (let c = 0; c < 3; c += 1) rgb[c] = rgb[c]! + (scene.skyBottom[c]! * 0.5 + 0.5 - rgb[c]!) * haze;
      for (const blob of scene.blobs) {
        const dx = (u - blob.x) * aspect;
        const dy = v - blob.y;
        // Blobs below the horizon read as reflections, so they glow less there.
        // A wide halo plus a tight core reads as a light source rather than a smudge.
        const d2 = (dx * dx + dy * dy) / (blob.radius * blob.radius);
        const glow = blob.intensity * (0.65 * Math.exp(-d2) + 0.35 * Math.exp(-d2 * 9)) * (1 - 0.5 * ground);
        for (let c = 0; c < 3; c += 1) rgb[c] = 1 - (1 - rgb[c]!) * (1 - glow * blob.colour[c]!);
      }
      const r2 = (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5);
      const light = (1 + TEXTURE_AMOUNT * (texture(u, v) - 0.5) * 2) * (1 - VIGNETTE * r2 * 2);
      const offset = (py * width + px) * 3;
      for (let c = 0; c < 3; c += 1) data[offset + c] = Math.min(1, Math.max(0, rgb[c]! * light)) * 2 - 1;
    }
  }
  return { width, height, data };
}
