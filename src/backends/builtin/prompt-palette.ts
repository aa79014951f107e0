import { namedColour, type Hsl } from './colour-words.js';
import { hashUnits } from './prng.js';

/** An sRGB colour with channels in 0–1. */
export type Rgb = readonly [number, number, number];

/** One prompt word and the colour it contributes. */
export interface PaletteEntry {
  readonly word: string;
  readonly hsl: Hsl;
  /** Named colours outweigh hashed ones; repeats of a word add up. */
  readonly weight: number;
  readonly named: boolean;
}

/** The colours of a prompt, strongest first, and its content words in prompt order. */
export interface PromptPalette {
  readonly words: readonly string[];
  readonly entries: readonly PaletteEntry[];
}

const STOPWORDS = new Set(
  'a an the of in on at to and or with by for from into over under is are be as its it this that very highly best quality masterpiece detailed'.split(' '),
);
const NAMED_WEIGHT = 3;
/** How close (degrees) a colour may stay to a hue the negative prompt asks to avoid. */
const REPEL_DEGREES = 70;

/** Lower-case content words; numbers and A1111 weight syntax like "(word:1.2)" drop out. */
export function promptWords(text: string | undefined): string[] {
  const tokens = (text ?? '').normalize('NFKC').toLowerCase().match(/[\p{L}][\p{L}\p{N}'-]*/gu) ?? [];
  return tokens.filter((t) => !STOPWORDS.has(t));
}

/** A word that names no colour still gets one, from sha256, so any prompt shapes the image. */
function hashedColour(word: string): Hsl {
  const [h, s, l] = hashUnits(`colour:${word}`);
  return { h: h * 360, s: 0.35 + s * 0.4, l: 0.35 + l * 0.3 };
}

function hueDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/** Rotates a hue out of the avoided band and mutes it, so "no red" really looks less red. */
function repel(colour: Hsl, avoid: readonly number[]): Hsl {
  let { h, s } = colour;
  for (const bad of avoid) {
    const distance = hueDistance(h, bad);
    if (s < 0.05 || distance >= REPEL_DEGREES) continue;
    const direction = ((h - bad + 540) % 360) - 180 >= 0 ? 1 : -1;
    h = (h + direction * (REPEL_DEGREES - distance) + 360) % 360;
    s *= 0.6;
  }
  return { h, s, l: colour.l };
}

/**
 * Derives a palette from the prompt: named colour words first (by weight, then order), then
 * every other word's hashed colour. Chromatic colour words of the negative prompt push hues away.
 */
export function promptPalette(prompt: string, negativePrompt?: string): PromptPalette {
  const words = promptWords(prompt);
  const byWord = new Map<string, PaletteEntry>();
  for (const word of words.length > 0 ? words : [prompt.trim() || 'atelier']) {
    const seen = byWord.get(word);
    if (seen) {
      byWord.set(word, { ...seen, weight: seen.weight + (seen.named ? NAMED_WEIGHT : 1) });
      continue;
    }
    const named = namedColour(word);
    byWord.set(word, { word, hsl: named ?? hashedColour(word), weight: named ? NAMED_WEIGHT : 1, named: named !== undefined });
  }
  const avoid = promptWords(negativePrompt).flatMap((w) => {
    const c = namedColour(w);
    return c && c.s >= 0.2 ? [c.h] : [];
  });
  const entries = [...byWord.values()]
    .map((e, order) => ({ e: { ...e, hsl: repel(e.hsl, avoid) }, order }))
    .sort((a, b) => Number(b.e.named) - Number(a.e.named) || b.e.weight - a.e.weight || a.order - b.order)
    .map(({ e }) => e);
  return { words: [...byWord.keys()], entries };
}

/** HSL → sRGB (0–1), the usual piecewise formula. */
export function hslToRgb({ h, s, l }: Hsl): Rgb {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [r + m, g + m, b + m];
}
