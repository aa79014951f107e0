import { describe, expect, it } from 'vitest';
import { PREVIEW_MARK_TEXT, previewMarkBox, stampPreviewMark } from '../../../src/backends/builtin/preview-mark.js';

/** Mid-grey RGB, so both the dark box and the white ink show against it. */
const grey = (width: number, height: number) => Buffer.alloc(width * height * 3, 128);

/** Pixels (as [x, y]) of raw RGB whose three channels satisfy `test`. */
function pixels(rgb: Buffer, width: number, test: (r: number, g: number, b: number) => boolean): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < rgb.length; i += 3) if (test(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!)) found.push([(i / 3) % width, Math.floor(i / 3 / width)]);
  return found;
}

describe('the PREVIEW mark', () => {
  it('reads PREVIEW', () => {
    expect(PREVIEW_MARK_TEXT).toBe('PREVIEW');
  });

  it('sits in the bottom-right corner, sized to the image (a font pixel per 256 px of the shorter side)', () => {
    expect(previewMarkBox(1024, 1024)).toEqual({ left: 836, top: 972, width: 180, height: 44 });
    expect(previewMarkBox(512, 384)).toEqual({ left: 465, top: 371, width: 45, height: 11 });
    expect(previewMarkBox(2048, 1152)).toEqual({ left: 2048 - 180 - 8, top: 1152 - 44 - 8, width: 180, height: 44 });
    // Small on large images: under 1/5 of the width and 1/20 of the area.
    for (const [w, h] of [[1024, 1024], [1344, 768], [512, 512], [2048, 2048]] as const) {
      const box = previewMarkBox(w, h);
      expect(box.width / w).toBeLessThan(0.2);
      expect((box.width * box.height) / (w * h)).toBeLessThan(0.05);
    }
  });

  it('is clipped to an image smaller than itself', () => {
    expect(previewMarkBox(30, 8)).toEqual({ left: 0, top: 0, width: 30, height: 8 });
    const rgb = stampPreviewMark(grey(30, 8), 30, 8);
    expect(rgb).toHaveLength(30 * 8 * 3);
  });

  it('darkens the box, draws white letters, and leaves every other pixel as it was', () => {
    const [w, h] = [320, 240];
    const rgb = stampPreviewMark(grey(w, h), w, h);
    const box = previewMarkBox(w, h);
    const inBox = ([x, y]: [number, number]) => x >= box.left && x < box.left + box.width && y >= box.top && y < box.top + box.height;
    const changed = pixels(rgb, w, (r) => r !== 128);
    expect(changed).toHaveLength(box.width * box.height);
    expect(changed.every(inBox)).toBe(true);
    const ink = pixels(rgb, w, (r, g, b) => r === 242 && g === 242 && b === 242); // round(128·0.1 + 255·0.9)
    const shade = pixels(rgb, w, (r, g, b) => r === 51 && g === 51 && b === 51); // round(128·0.4)
    expect(ink.length + shade.length).toBe(box.width * box.height);
    // P R E V I E W in a 5×7 font: 15 + 18 + 18 + 13 + 11 + 18 + 18 ink cells.
    expect(ink).toHaveLength(111);
  });

  it('is deterministic: the same pixels give the same bytes', () => {
    const noise = Buffer.from(Array.from({ length: 200 * 150 * 3 }, (_, i) => (i * 7919) % 251));
    const a = stampPreviewMark(Buffer.from(noise), 200, 150);
    const b = stampPreviewMark(Buffer.from(noise), 200, 150);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(noise)).toBe(false);
  });

  it('refuses a buffer that is not width × height RGB', () => {
    expect(() => stampPreviewMark(Buffer.alloc(10), 4, 4)).toThrow('Expected 48 bytes of RGB for 4x4 but received 10');
  });
});
