/**
 * The "PREVIEW" mark every output of the preview renderer carries, so nobody mistakes its
 * pictures for a model's: white letters on a dark translucent box in the bottom-right corner.
 *
 * The letters are a 5×7 pixel font drawn here, not text rendered from a font file, so the
 * mark is the same on every machine and every re-run stays byte-identical. It is scaled by
 * whole pixels to the image (about a sixth of the width of a 1024 px image, and never smaller
 * than 1 font pixel per pixel) and blended in JavaScript over the raw RGB, which touches
 * only the box's pixels.
 */

/** 5×7 glyphs of the letters used, one string per row, `#` = ink. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  V: ['#...#', '#...#', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '##.##', '#...#'],
};

export const PREVIEW_MARK_TEXT = 'PREVIEW';

const GLYPH_WIDTH = 5;
const GLYPH_HEIGHT = 7;
const LETTER_GAP = 1;
/** Box padding and distance from the image's edges, in font pixels. */
const PADDING = 2;
const MARGIN = 2;
/** One font pixel per this many pixels of the image's shorter side. */
const PIXELS_PER_SCALE = 256;

/** The box keeps 40% of what is under it (a 60% black); ink is 90% white. */
const BOX_KEEP = 0.4;
const INK_KEEP = 0.1;
const INK_ADD = 255 * 0.9;

/** Where the mark lies in an image, clipped to it. */
export interface MarkBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

interface Mask {
  readonly width: number;
  readonly height: number;
  /** 1: box, 2: ink; row-major. */
  readonly cells: Uint8Array;
}

const masks = new Map<number, Mask>();

/** The mark at `scale` image pixels per font pixel, drawn once per scale. */
function maskAt(scale: number): Mask {
  const cached = masks.get(scale);
  if (cached) return cached;
  const textWidth = PREVIEW_MARK_TEXT.length * GLYPH_WIDTH + (PREVIEW_MARK_TEXT.length - 1) * LETTER_GAP;
  const width = (textWidth + 2 * PADDING) * scale;
  const height = (GLYPH_HEIGHT + 2 * PADDING) * scale;
  const cells = new Uint8Array(width * height).fill(1);
  [...PREVIEW_MARK_TEXT].forEach((letter, n) => {
    const rows = GLYPHS[letter]!;
    const x0 = PADDING + n * (GLYPH_WIDTH + LETTER_GAP);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy += 1) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx += 1) {
        if (rows[gy]![gx] !== '#') continue;
        for (let dy = 0; dy < scale; dy += 1) {
          const row = ((PADDING + gy) * scale + dy) * width;
          cells.fill(2, row + (x0 + gx) * scale, row + (x0 + gx + 1) * scale);
        }
      }
    }
  });
  const mask = { width, height, cells };
  masks.set(scale, mask);
  return mask;
}

const scaleFor = (width: number, height: number) => Math.max(1, Math.floor(Math.min(width, height) / PIXELS_PER_SCALE));

/**
 * Where the mark goes in a `width`×`height` image: the bottom-right corner, inset by the
 * margin when it fits, clipped to the image when the image is smaller than the mark.
 *
 * @example previewMarkBox(1024, 1024) // { left: 836, top: 972, width: 180, height: 44 }
 */
export function previewMarkBox(width: number, height: number): MarkBox {
  const scale = scaleFor(width, height);
  const mask = maskAt(scale);
  const margin = MARGIN * scale;
  const left = Math.max(0, width - mask.width - (width >= mask.width + margin ? margin : 0));
  const top = Math.max(0, height - mask.height - (height >= mask.height + margin ? margin : 0));
  return { left, top, width: Math.min(mask.width, width - left), height: Math.min(mask.height, height - top) };
}

/**
 * Stamps the mark onto raw 8-bit RGB (`width * height * 3` bytes), in place, and returns the
 * same buffer. Deterministic: the same pixels always give the same bytes.
 *
 * @example await encodeRgbPng(stampPreviewMark(rgb, 512, 512), 512, 512)
 */
export function stampPreviewMark(rgb: Buffer, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`Expected ${width * height * 3} bytes of RGB for ${width}x${height} but received ${rgb.length}`);
  const mask = maskAt(scaleFor(width, height));
  const box = previewMarkBox(width, height);
  for (let y = 0; y < box.height; y += 1) {
    for (let x = 0; x < box.width; x += 1) {
      const ink = mask.cells[y * mask.width + x] === 2;
      const offset = ((box.top + y) * width + box.left + x) * 3;
      for (let c = 0; c < 3; c += 1) {
        const under = rgb[offset + c]!;
        rgb[offset + c] = Math.round(ink ? under * INK_KEEP + INK_ADD : under * BOX_KEEP);
      }
    }
  }
  return rgb;
}
