import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GeneratedImage } from '../../src/backends/backend.js';
import { DEFAULT_PRESET } from '../../src/runner/store-options.js';
import { storeOutputs } from '../../src/runner/store-outputs.js';
import { createDiskStorage } from '../../src/storage/disk/disk-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { makeSpec } from '../helpers/backend-spec.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const owner = { id: 'job-1', user_id: 'user-1' };
const options = { modelLabel: 'test', preset: DEFAULT_PRESET, workspaceTtlMs: 60_000, now: () => 1_700_000_000_000 };

async function image(index: number, colour: string): Promise<GeneratedImage> {
  const data = await sharp({ create: { width: 96, height: 64, channels: 3, background: colour } }).png().toBuffer();
  return { kind: 'image', index, seed: 7 + index, width: 96, height: 64, data };
}

/** The key's image index: keys end in `/{index}.png` or `/{index}.{…}`. */
const indexOf = (key: string) => Number(/\/(\d+)\.[^/]+$/.exec(key)?.[1]);

describe('storeOutputs', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let disk: Storage;
  beforeEach(async () => {
    tmp = await makeTempDir('atelier-store-outputs-');
    disk = createDiskStorage({ root: tmp.dir, signer: createUrlSigner('store-outputs-test-secret-0123456789') });
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it("processes a batch's images two at a time, and returns their rows in the outputs' order", async () => {
    // Image 0's files are held until image 1 starts writing: one at a time, this never finishes.
    let secondStarted!: () => void;
    const second = new Promise<void>((resolve) => (secondStarted = resolve));
    const storage: Storage = {
      ...disk,
      async put(key, body, putOptions) {
        if (indexOf(key) === 1) secondStarted();
        if (indexOf(key) === 0) await second;
        return disk.put(key, body, putOptions);
      },
    };
    const outputs = [await image(0, '#aa3322'), await image(1, '#2233aa'), await image(2, '#22aa33')];
    const rows = await storeOutputs(storage, owner, makeSpec({ numImages: 3 }), outputs, options);
    expect(rows.map((row) => row.asset_index)).toEqual([0, 1, 2]);
    for (const row of rows) {
      expect(indexOf(row.storage_key)).toBe(row.asset_index);
      expect(JSON.parse(row.metadata).seed).toBe(7 + row.asset_index);
      expect(await disk.stat(row.storage_key)).toBeDefined();
    }
  });

  it('leaves no file behind when one image of a batch fails, including those of the image processed beside it', async () => {
    const storage: Storage = {
      ...disk,
      async put(key, body, putOptions) {
        if (indexOf(key) === 2 && key.endsWith('.png')) throw new Error('disk full');
        return disk.put(key, body, putOptions);
      },
    };
    const outputs = [await image(0, '#aa3322'), await image(1, '#2233aa'), await image(2, '#22aa33'), await image(3, '#777777')];
    await expect(storeOutputs(storage, owner, makeSpec({ numImages: 4 }), outputs, options)).rejects.toThrow('disk full');
    const left = [];
    for await (const object of disk.list('')) left.push(object.key);
    expect(left).toEqual([]);
  });
});
