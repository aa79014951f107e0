import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { configureSharp, releaseImageMemory } from '../../../src/media/image/release-memory.js';

describe('sharp settings and memory release for derivative rendering', () => {
  it("turns libvips' operation cache off: every image a server sees is new", () => {
    sharp.cache(true);
    expect(sharp.cache().items.max).toBeGreaterThan(0);
    configureSharp();
    const { memory, files, items } = sharp.cache();
    expect([memory.max, files.max, items.max]).toEqual([0, 0, 0]);
  });

  it('frees garbage pixel buffers at once, without waiting for V8 to notice them', () => {
    releaseImageMemory();
    const before = process.memoryUsage().arrayBuffers;
    // Like a decoded image's pixels: a large backing store behind a small, now unreachable object.
    for (let i = 0; i < 4; i += 1) Buffer.alloc(8 * 1024 * 1024, i).length;
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    releaseImageMemory();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });
});
