import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { configureSharp } from '../../../src/media/image/release-memory.js';
import { builtModule } from '../../helpers/packages-loaded.js';

describe('sharp settings and memory release for derivative rendering', () => {
  it("turns libvips' operation cache off: every image a server sees is new", () => {
    sharp.cache(true);
    expect(sharp.cache().items.max).toBeGreaterThan(0);
    configureSharp();
    const { memory, files, items } = sharp.cache();
    expect([memory.max, files.max, items.max]).toEqual([0, 0, 0]);
  });

  // In its own process, with V8 sweeping freed ArrayBuffers on the main thread: by default a
  // background task releases their memory a moment after the collection, so reading
  // memoryUsage() right after it raced that task (and in the shared test worker, what earlier
  // files left in the heap changed the figure too).
  it('frees garbage pixel buffers at once, without waiting for V8 to notice them', () => {
    const script = `
      const { releaseImageMemory } = await import(${JSON.stringify(builtModule('src/media/image/release-memory.js'))});
      releaseImageMemory();
      const before = process.memoryUsage().arrayBuffers;
      // Like a decoded image's pixels: a large backing store behind a small, now unreachable object.
      for (let i = 0; i < 4; i += 1) Buffer.alloc(8 * 1024 * 1024, i).length;
      const garbage = process.memoryUsage().arrayBuffers - before;
      releaseImageMemory();
      const left = process.memoryUsage().arrayBuffers - before;
      console.log(JSON.stringify({ garbage, left }));`;
    const run = spawnSync(process.execPath, ['--no-concurrent-array-buffer-sweeping', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).toBe(0);
    const { garbage, left } = JSON.parse(run.stdout) as { garbage: number; left: number };
    expect(garbage).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    expect(left).toBeLessThan(8 * 1024 * 1024);
  });
});
