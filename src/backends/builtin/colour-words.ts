/** A colour in HSL: hue in degrees, saturation and lightness in 0–1. */
export interface Hsl {
  readonly h: number;
  readonly s: number;
  readonly l: number;
}

/**
 * Words that name (or strongly imply) a colour. A prompt's colour words dominate its palette,
 * so "a deep blue ocean" reads as blue rather than whatever sha256("ocean") happens to be.
 * Scene words (night, desert, forest…) are here too because users expect their mood.
 */
export const COLOUR_WORDS: ReadonlyMap<string, Hsl> = new Map<string, Hsl>([
  ['red', { h: 0, s: 0.8, l: 0.48 }],
  ['crimson', { h: 348, s: 0.8, l: 0.42 }],
  ['scarlet', { h: 5, s: 0.85, l: 0.5 }],
  ['ruby', { h: 345, s: 0.75, l: 0.42 }],
  ['fire', { h: 14, s: 0.95, l: 0.52 }],
  ['flame', { h: 18, s: 0.95, l: 0.55 }],
  ['lava', { h: 8, s: 0.9, l: 0.45 }],
  ['blood', { h: 355, s: 0.8, l: 0.32 }],
  ['orange', { h: 28, s: 0.9, l: 0.55 }],
  ['amber', { h: 40, s: 0.9, l: 0.52 }],
  ['sunset', { h: 18, s: 0.85, l: 0.58 }],
  ['sunrise', { h: 32, s: 0.8, l: 0.62 }],
  ['autumn', { h: 26, s: 0.75, l: 0.45 }],
  ['desert', { h: 30, s: 0.6, l: 0.6 }],
  ['sand', { h: 40, s: 0.5, l: 0.7 }],
  ['gold', { h: 45, s: 0.85, l: 0.55 }],
  ['golden', { h: 45, s: 0.85, l: 0.55 }],
  ['yellow', { h: 55, s: 0.9, l: 0.55 }],
  ['sun', { h: 48, s: 0.95, l: 0.62 }],
  ['lemon', { h: 58, s: 0.85, l: 0.6 }],
  ['green', { h: 120, s: 0.6, l: 0.42 }],
  ['grass', { h: 100, s: 0.6, l: 0.42 }],
  ['forest', { h: 135, s: 0.5, l: 0.28 }],
  ['jungle', { h: 125, s: 0.6, l: 0.3 }],
  ['leaf', { h: 105, s: 0.6, l: 0.4 }],
  ['leaves', { h: 105, s: 0.6, l: 0.4 }],
  ['moss', { h: 85, s: 0.45, l: 0.35 }],
  ['emerald', { h: 145, s: 0.7, l: 0.4 }],
  ['teal', { h: 178, s: 0.65, l: 0.38 }],
  ['turquoise', { h: 174, s: 0.7, l: 0.5 }],
  ['cyan', { h: 186, s: 0.8, l: 0.5 }],
  ['aqua', { h: 182, s: 0.75, l: 0.55 }],
  ['blue', { h: 222, s: 0.8, l: 0.45 }],
  ['azure', { h: 210, s: 0.8, l: 0.55 }],
  ['navy', { h: 228, s: 0.7, l: 0.22 }],
  ['sapphire', { h: 220, s: 0.75, l: 0.38 }],
  ['ocean', { h: 205, s: 0.75, l: 0.36 }],
  ['sea', { h: 198, s: 0.7, l: 0.4 }],
  ['water', { h: 195, s: 0.6, l: 0.45 }],
  ['sky', { h: 205, s: 0.65, l: 0.68 }],
  ['ice', { h: 195, s: 0.45, l: 0.82 }],
  ['snow', { h: 210, s: 0.25, l: 0.9 }],
  ['winter', { h: 210, s: 0.35, l: 0.78 }],
  ['night', { h: 232, s: 0.55, l: 0.13 }],
  ['midnight', { h: 236, s: 0.6, l: 0.1 }],
  ['space', { h: 250, s: 0.5, l: 0.08 }],
  ['moon', { h: 215, s: 0.3, l: 0.78 }],
  ['purple', { h: 280, s: 0.6, l: 0.45 }],
  ['violet', { h: 270, s: 0.65, l: 0.5 }],
  ['lavender', { h: 265, s: 0.5, l: 0.75 }],
  ['magenta', { h: 310, s: 0.8, l: 0.5 }],
  ['pink', { h: 335, s: 0.75, l: 0.72 }],
  ['rose', { h: 345, s: 0.65, l: 0.6 }],
  ['brown', { h: 28, s: 0.45, l: 0.3 }],
  ['wood', { h: 30, s: 0.45, l: 0.35 }],
  ['white', { h: 0, s: 0, l: 0.95 }],
  ['black', { h: 0, s: 0, l: 0.05 }],
  ['dark', { h: 230, s: 0.2, l: 0.12 }],
  ['grey', { h: 0, s: 0, l: 0.5 }],
  ['gray', { h: 0, s: 0, l: 0.5 }],
  ['silver', { h: 210, s: 0.08, l: 0.75 }],
  ['fog', { h: 210, s: 0.1, l: 0.8 }],
]);

/** The named colour of a word, also trying the singular so "flames" and "stars" still count. */
export function namedColour(word: string): Hsl | undefined {
  return COLOUR_WORDS.get(word) ?? (word.endsWith('s') ? COLOUR_WORDS.get(word.slice(0, -1)) : undefined);
}
