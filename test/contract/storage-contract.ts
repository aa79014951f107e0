/**
 * The behaviour every {@link Storage} adapter must have, tested only through the port so the
 * disk adapter and a future S3 adapter run the very same suite.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import type { Storage } from '../../src/storage/storage.js';

/** A fresh, empty storage per test, and how to throw it away. */
export type StorageFactory = () => Promise<{ storage: Storage; cleanup: () => Promise<void> }>;

const MIB = 1024 * 1024;

/** Reads a stream to the end. Fine in tests, where objects are small enough. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Deterministic pseudo-random bytes produced lazily, chunk by chunk (never one big buffer),
 * with uneven chunk sizes so adapters cannot rely on aligned writes. `hash()` is valid once
 * the stream has been consumed.
 */
export function lazyBytes(total: number, options: { failAfter?: number; waitAfter?: { bytes: number; until: Promise<void> } } = {}) {
  const hasher = createHash('sha256');
  let state = 0x2545f491;
  async function* generate(): AsyncGenerator<Buffer> {
    let produced = 0;
    let waited = false;
    while (produced < total) {
      if (options.failAfter !== undefined && produced >= options.failAfter) throw new Error('source stream broke midway');
      if (options.waitAfter && !waited && produced >= options.waitAfter.bytes) {
        waited = true;
        await options.waitAfter.until;
      }
      const size = Math.min(total - produced, 65_521);
      const chunk = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i++) {
        // xorshift32: cheap, and every chunk differs, so a dropped or repeated chunk changes the hash.
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        chunk[i] = state & 0xff;
      }
      hasher.update(chunk);
      produced += size;
      yield chunk;
    }
  }
  const stream = Readable.from(generate(), { objectMode: false });
  return { stream, hash: () => hasher.copy().digest('hex') };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a rejection with code ${code}`).toBeInstanceOf(AtelierError);
  expect((error as AtelierError).code).toBe(code);
}

/** Registers the contract suite for one adapter. Call at the top level of a test file. */
export function storageContract(name: string, make: StorageFactory): void {
  describe(`Storage contract: ${name}`, () => {
    let storage: Storage;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ storage, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    describe('put and get', () => {
      it('round-trips a Buffer and reports size and content type', async () => {
        const body = Buffer.from('\x89PNG fake image bytes');
        const info = await storage.put('workspace-temp/u1/j1/0.png', body);
        expect(info).toMatchObject({ key: 'workspace-temp/u1/j1/0.png', size: body.length, contentType: 'image/png' });
        expect(info.modifiedAt).toBeInstanceOf(Date);
        expect(await readAll(await storage.get('workspace-temp/u1/j1/0.png'))).toEqual(body);
      });

      it('round-trips an empty object', async () => {
        const info = await storage.put('a/empty.json', Buffer.alloc(0));
        expect(info.size).toBe(0);
        expect((await readAll(await storage.get('a/empty.json'))).length).toBe(0);
      });

      it('round-trips a ~5 MB stream produced lazily, byte for byte', async () => {
        const total = 5 * MIB + 12_345;
        const source = lazyBytes(total);
        const info = await storage.put('workspace-temp/u1/j1/big.mp4', source.stream);
        expect(info.size).toBe(total);
        expect(info.contentType).toBe('video/mp4');
        const back = await readAll(await storage.get('workspace-temp/u1/j1/big.mp4'));
        expect(back.length).toBe(total);
        expect(sha256(back)).toBe(source.hash());
      });

      it('echoes an explicit content type from put', async () => {
        const info = await storage.put('a/blob.png', Buffer.from('x'), { contentType: 'image/png' });
        expect(info.contentType).toBe('image/png');
        const other = await storage.put('a/blob', Buffer.from('x'), { contentType: 'text/plain' });
        expect(other.contentType).toBe('text/plain');
      });

      it('reads a byte range: the first bytes, a middle span, the last byte', async () => {
        const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 251));
        await storage.put('workspace-temp/u1/j1/clip.mp4', body);
        const part = async (start: number, end: number) => readAll(await storage.get('workspace-temp/u1/j1/clip.mp4', { range: { start, end } }));
        expect(await part(0, 1)).toEqual(body.subarray(0, 2));
        expect(await part(100, 249)).toEqual(body.subarray(100, 250));
        expect(await part(299, 299)).toEqual(body.subarray(299));
        await expectCode(storage.get('workspace-temp/u1/j1/none.mp4', { range: { start: 0, end: 1 } }), 'not_found');
      });

      it('rejects get of a missing key with AtelierError not_found', async () => {
        await expectCode(storage.get('workspace-temp/u1/j1/missing.png'), 'not_found');
        await storage.put('x/y/present.png', Buffer.from('x'));
        // A "directory" of other keys is not an object either.
        await expectCode(storage.get('x/y'), 'not_found');
        await expectCode(storage.get('x/y/present.png/deeper.png'), 'not_found');
      });
    });

    describe('stat', () => {
      it('returns size, content type and modification time', async () => {
        const before = Date.now();
        await storage.put('workspace-temp/u1/j1/0.thumb.webp', Buffer.alloc(1234, 7));
        const info = await storage.stat('workspace-temp/u1/j1/0.thumb.webp');
        expect(info).toMatchObject({ key: 'workspace-temp/u1/j1/0.thumb.webp', size: 1234, contentType: 'image/webp' });
        expect(info?.modifiedAt).toBeInstanceOf(Date);
        // Filesystem timestamps may be coarser than Date.now(); allow a little slack either way.
        expect(Math.abs(info!.modifiedAt.getTime() - before)).toBeLessThan(60_000);
      });

      it('returns undefined for a missing key', async () => {
        expect(await storage.stat('workspace-temp/u1/j1/nothing.png')).toBeUndefined();
        await storage.put('p/q/r.png', Buffer.from('x'));
        expect(await storage.stat('p/q')).toBeUndefined();
      });
    });

    describe('delete', () => {
      it('removes the object and is idempotent', async () => {
        await storage.delete('never/existed.png');
        await storage.put('workspace-temp/u1/j1/0.png', Buffer.from('x'));
        await storage.delete('workspace-temp/u1/j1/0.png');
        expect(await storage.stat('workspace-temp/u1/j1/0.png')).toBeUndefined();
        await expectCode(storage.get('workspace-temp/u1/j1/0.png'), 'not_found');
        await storage.delete('workspace-temp/u1/j1/0.png');
      });

      it('leaves sibling objects alone', async () => {
        await storage.put('workspace-temp/u1/j1/0.png', Buffer.from('a'));
        await storage.put('workspace-temp/u1/j1/0.thumb.webp', Buffer.from('b'));
        await storage.delete('workspace-temp/u1/j1/0.png');
        expect(await readAll(await storage.get('workspace-temp/u1/j1/0.thumb.webp'))).toEqual(Buffer.from('b'));
      });

      it('a key can be written again after delete', async () => {
        await storage.put('a/b/c.png', Buffer.from('one'));
        await storage.delete('a/b/c.png');
        await storage.put('a/b/c.png', Buffer.from('two'));
        expect(await readAll(await storage.get('a/b/c.png'))).toEqual(Buffer.from('two'));
      });
    });

    describe('list', () => {
      const keysOf = async (prefix: string) => {
        const found: string[] = [];
        for await (const info of storage.list(prefix)) found.push(info.key);
        return found.sort();
      };

      it('lists every object under a prefix, with size and time, and nothing else', async () => {
        const before = Date.now() - 60_000;
        await storage.put('workspace-temp/u1/j1/0.png', Buffer.from('one'));
        await storage.put('workspace-temp/u1/j1/0.thumb.webp', Buffer.from('three'));
        await storage.put('workspace-temp/u1/j2/0.png', Buffer.from('x'));
        await storage.put('workspace-temp/u2/j3/0.png', Buffer.from('y'));
        await storage.put('job-inputs/u1/j1/reference.png', Buffer.from('z'));
        expect(await keysOf('workspace-temp/u1/')).toEqual(['workspace-temp/u1/j1/0.png', 'workspace-temp/u1/j1/0.thumb.webp', 'workspace-temp/u1/j2/0.png']);
        expect(await keysOf('workspace-temp/u1/j1/')).toEqual(['workspace-temp/u1/j1/0.png', 'workspace-temp/u1/j1/0.thumb.webp']);
        expect(await keysOf('')).toHaveLength(5);
        const infos = [];
        for await (const info of storage.list('workspace-temp/u1/j1/')) infos.push(info);
        const thumb = infos.find((i) => i.key.endsWith('.thumb.webp'))!;
        expect(thumb.size).toBe(5);
        expect(thumb.modifiedAt.getTime()).toBeGreaterThan(before);
      });

      it('lists nothing under a prefix nobody wrote, and forgets deleted objects', async () => {
        expect(await keysOf('user-library/nobody/')).toEqual([]);
        await storage.put('user-library/u1/j1/0.png', Buffer.from('a'));
        await storage.delete('user-library/u1/j1/0.png');
        expect(await keysOf('user-library/')).toEqual([]);
      });

      it('pages through many objects', async () => {
        const keys = Array.from({ length: 1005 }, (_, i) => `worker-uploads/j/${Math.floor(i / 100)}/${i}.png`);
        for (let i = 0; i < keys.length; i += 25) await Promise.all(keys.slice(i, i + 25).map((key) => storage.put(key, Buffer.from('p'))));
        expect(await keysOf('worker-uploads/')).toEqual([...keys].sort());
      }, 60_000);
    });

    describe('copy', () => {
      it('produces an independent object', async () => {
        const body = Buffer.from('original bytes');
        await storage.put('workspace-temp/u1/j1/0.png', body);
        const info = await storage.copy('workspace-temp/u1/j1/0.png', 'user-library/u1/j1/0.png');
        expect(info).toMatchObject({ key: 'user-library/u1/j1/0.png', size: body.length, contentType: 'image/png' });

        await storage.put('workspace-temp/u1/j1/0.png', Buffer.from('changed'));
        expect(await readAll(await storage.get('user-library/u1/j1/0.png'))).toEqual(body);
        await storage.delete('workspace-temp/u1/j1/0.png');
        expect(await readAll(await storage.get('user-library/u1/j1/0.png'))).toEqual(body);
      });

      it('overwrites an existing destination', async () => {
        await storage.put('a/src.png', Buffer.from('new'));
        await storage.put('a/dst.png', Buffer.from('old and longer'));
        await storage.copy('a/src.png', 'a/dst.png');
        expect(await readAll(await storage.get('a/dst.png'))).toEqual(Buffer.from('new'));
      });

      it('rejects a missing source with not_found and creates nothing', async () => {
        await expectCode(storage.copy('a/missing.png', 'a/copy.png'), 'not_found');
        expect(await storage.stat('a/copy.png')).toBeUndefined();
      });
    });

    describe('atomic writes', () => {
      it('overwriting replaces the content; readers see the old object until the new one is complete', async () => {
        const key = 'workspace-temp/u1/j1/0.png';
        const v1 = Buffer.alloc(300_000, 1);
        await storage.put(key, v1);

        // A source the test controls: it hands out the first MiB, then holds the rest until the
        // gate opens. Asking for more than that MiB means the adapter has taken it in (the
        // source buffers one chunk at most), so the write is in flight when we look.
        const v2 = await readAll(lazyBytes(2 * MIB).stream);
        const gate = deferred();
        const firstHalfTaken = deferred();
        const CHUNK = 64 * 1024;
        let offset = 0;
        const source = new Readable({
          highWaterMark: CHUNK,
          read() {
            const next = () => {
              const chunk = v2.subarray(offset, offset + CHUNK);
              offset += chunk.length;
              this.push(chunk.length > 0 ? chunk : null);
            };
            if (offset !== MIB) return next();
            firstHalfTaken.resolve();
            void gate.promise.then(next);
          },
        });
        const pending = storage.put(key, source);
        await Promise.race([firstHalfTaken.promise, pending.then(() => Promise.reject(new Error('put finished before the source was complete')))]);
        expect((await storage.stat(key))?.size).toBe(v1.length);
        expect(await readAll(await storage.get(key))).toEqual(v1);

        gate.resolve();
        expect((await pending).size).toBe(2 * MIB);
        const back = await readAll(await storage.get(key));
        expect(back.length).toBe(2 * MIB);
        expect(sha256(back)).toBe(sha256(v2));
        expect((await storage.stat(key))?.size).toBe(2 * MIB);
      });

      it('a put whose stream errors midway rejects and leaves no object', async () => {
        const key = 'workspace-temp/u1/j1/1.png';
        const broken = lazyBytes(3 * MIB, { failAfter: MIB });
        await expect(storage.put(key, broken.stream)).rejects.toThrow('source stream broke midway');
        expect(await storage.stat(key)).toBeUndefined();
        await expectCode(storage.get(key), 'not_found');
      });

      it('a failed overwrite keeps the previous object intact', async () => {
        const key = 'workspace-temp/u1/j1/2.png';
        const previous = Buffer.from('the previous, complete object');
        await storage.put(key, previous);
        const broken = lazyBytes(3 * MIB, { failAfter: MIB });
        await expect(storage.put(key, broken.stream)).rejects.toThrow('source stream broke midway');
        expect(await readAll(await storage.get(key))).toEqual(previous);
        expect((await storage.stat(key))?.size).toBe(previous.length);
      });
    });

    describe('keys', () => {
      const invalidKeys = ['../etc/passwd', '/abs', 'a//b', '', 'a/../b', 'a/', './a', 'a\\b', '.tmp/x'];
      it.each(invalidKeys)('rejects %j in every method with invalid_parameter', async (key) => {
        await expectCode(storage.put(key, Buffer.from('x')), 'invalid_parameter');
        await expectCode(storage.put(key, Readable.from([Buffer.from('x')])), 'invalid_parameter');
        await expectCode(storage.get(key), 'invalid_parameter');
        await expectCode(storage.stat(key), 'invalid_parameter');
        await expectCode(storage.delete(key), 'invalid_parameter');
        await expectCode(storage.copy(key, 'a/ok.png'), 'invalid_parameter');
        await expectCode(storage.signedUrl(key, { expiresInSeconds: 60 }), 'invalid_parameter');
      });

      it('rejects an invalid copy destination without touching the source', async () => {
        await storage.put('a/ok.png', Buffer.from('x'));
        await expectCode(storage.copy('a/ok.png', '../escape.png'), 'invalid_parameter');
        expect((await storage.stat('a/ok.png'))?.size).toBe(1);
      });
    });

    describe('signedUrl', () => {
      it('returns a URL string containing the key', async () => {
        const key = 'workspace-temp/u1/j1/0.png';
        await storage.put(key, Buffer.from('x'));
        const url = await storage.signedUrl(key, { expiresInSeconds: 300, downloadName: 'my image.png' });
        expect(typeof url).toBe('string');
        expect(url).toContain(key);
      });
    });
  });
}
