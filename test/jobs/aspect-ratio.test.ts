import { describe, expect, it } from 'vitest';
import { ASPECT_RATIOS, sizeForAspectRatio } from '../../src/jobs/aspect-ratio.js';

describe('sizeForAspectRatio', () => {
  it('gives the SDXL buckets at 1024', () => {
    expect(sizeForAspectRatio('1:1', 1024)).toEqual({ width: 1024, height: 1024 });
    expect(sizeForAspectRatio('16:9', 1024)).toEqual({ width: 1344, height: 768 });
    expect(sizeForAspectRatio('4:3', 1024)).toEqual({ width: 1152, height: 896 });
    expect(sizeForAspectRatio('3:4', 1024)).toEqual({ width: 896, height: 1152 });
  });

  it('keeps every ratio within 7% of the asked one, sides multiples of 64, within 20% of base² pixels', () => {
    for (const ratio of ASPECT_RATIOS) {
      for (const base of [512, 768, 1024]) {
        const { width, height } = sizeForAspectRatio(ratio, base);
        const [a, b] = ratio.split(':').map(Number) as [number, number];
        expect(width % 64).toBe(0);
        expect(height % 64).toBe(0);
        expect(Math.abs(width / height - a / b) / (a / b)).toBeLessThan(0.07);
        expect(Math.abs((width * height) / (base * base) - 1)).toBeLessThan(0.2);
      }
    }
  });

  it('refuses an unknown ratio', () => {
    expect(() => sizeForAspectRatio('5:4', 1024)).toThrow("Expected one of 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3 for aspect_ratio but received '5:4'");
  });
});
