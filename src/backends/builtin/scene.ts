import { deriveSeed, hash32, hashUnits, mulberry32 } from './prng.js';
import { hslToRgb, type PromptPalette, type Rgb } from './prompt-palette.js';
import type { Hsl } from './colour-words.js';

/** A soft glowing disc; positions are fractions of the frame, radius a fraction of its height. */
export interface GlowBlob {
  readonly x: number;
  readonly y: number;
  readonly radius: number;
  readonly intensity: number;
  readonly colour: Rgb;
}

/** Everything the target field needs: a gradient sky, a ground below a soft horizon, blobs. */
export interface Scene {
  readonly skyTop: Rgb;
  readonly skyBottom: Rgb;
  readonly groundFar: Rgb;
  readonly groundNear: Rgb;
  /** Radians; 0 means the sky gradient runs straight from top to bottom. */
  readonly gradientAngle: number;
  readonly horizon: number;
  /** Rise of the horizon across the frame, as a fraction of the height. */
  readonly horizonTilt: number;
  readonly horizonSoftness: number;
  readonly blobs: readonly GlowBlob[];
}

const MIN_BLOBS = 3;
const MAX_BLOBS = 8;
const SALT_JITTER = 2;

const shade = (c: Hsl, l: number, s = c.s): Rgb => hslToRgb({ h: c.h, s: Math.min(1, s), l: Math.max(0, Math.min(1, l)) });

/**
 * Lays out a scene. The prompt fixes the palette and the base composition (horizon, gradient
 * direction, one blob per word at a place and size hashed from the word); the seed only
 * jitters it, so one prompt keeps its character across seeds while each seed looks different.
 */
export function composeScene(palette: PromptPalette, seed: number): Scene {
  const layout = mulberry32(hash32(`layout:${palette.words.join(' ')}`));
  const jitter = mulberry32(deriveSeed(seed, SALT_JITTER));
  const spread = (rng: () => number, amount: number) => (rng() * 2 - 1) * amount;
  const colours = palette.entries.map((e) => e.hsl);
  const first = colours[0]!;
  const second = colours[1] ?? first;
  const third = colours[2] ?? second;

  const horizon = 0.5 + layout() * 0.28 + spread(jitter, 0.05);
  const blobCount = Math.min(MAX_BLOBS, Math.max(MIN_BLOBS, palette.words.length + 1));
  const blobs: GlowBlob[] = [];
  for (let i = 0; i < blobCount; i += 1) {
    const word = palette.words[i % palette.words.length] ?? 'atelier';
    const [bx, by, br, bi] = hashUnits(`blob:${i}:${word}`);
    // Lightened so they glow against a sky of the same hue.
    const hsl = pickWeighted(palette, layout());
    blobs.push({
      x: clamp(0.08 + bx * 0.84 + spread(jitter, 0.2), 0, 1),
      y: clamp(0.08 + by * (horizon - 0.02) + spread(jitter, 0.12), 0, 1),
      radius: (0.06 + br * 0.16) * (0.75 + jitter() * 0.55),
      intensity: 0.35 + bi * 0.5,
      colour: shade(hsl, 0.55 + hsl.l * 0.4, hsl.s * 1.1),
    });
  }
  return {
    skyTop: shade(first, first.l * 0.6),
    skyBottom: shade(second, 0.2 + second.l * 0.9),
    groundFar: shade(third, third.l * 0.75),
    groundNear: shade(third, third.l * 0.4),
    gradientAngle: spread(layout, 0.45) + spread(jitter, 0.1),
    horizon,
    horizonTilt: spread(layout, 0.08) + spread(jitter, 0.03),
    horizonSoftness: 0.01 + layout() * 0.06,
    blobs,
  };
}

/** Named colours carry more weight, so they also light more of the blobs. */
function pickWeighted(palette: PromptPalette, unit: number): Hsl {
  let remaining = unit * palette.entries.reduce((sum, e) => sum + e.weight, 0);
  for (const entry of palette.entries) {
    remaining -= entry.weight;
    if (remaining < 0) return entry.hsl;
  }
  return palette.entries[palette.entries.length - 1]!.hsl;
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}
