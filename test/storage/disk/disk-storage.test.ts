import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDiskStorage, parseSignedMediaQuery } from '../../../src/storage/disk/disk-storage.js';
import type { Storage } from '../../../src/storage/storage.js';
import { createUrlSigner } from '../../../src/storage/url-signer.js';
import { lazyBytes, readAll, storageContract } from '../../contract/storage-contract.js';

const signer = createUrlSigner('disk-storage-test-secret');

async function tempRoot(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'atelier-disk-'));
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

storageContract('disk', async () => {
  const root = await tempRoot();
  return { storage: createDiskStorage({ root, signer }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('disk storage specifics', () => {
  let root: string;
  let storage: Storage;

  beforeEach(async () => {
    root = await tempRoot();
    storage = createDiskStorage({ root, signer });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores a key as the file at the same relative path under root', async () => {
    await storage.put('workspace-temp/u1/j1/0.png', Buffer.from('png'));
    expect(await readFile(path.join(root, 'workspace-temp', 'u1', 'j1', '0.png'), 'utf8')).toBe('png');
  });

  it('leaves nothing in .tmp after a successful put, a copy or a failed put', async () => {
    await storage.put('a/ok.png', Buffer.from('x'));
    await storage.put('a/streamed.png', lazyBytes(200_000).stream);
    await storage.copy('a/ok.png', 'a/copied.png');
    await expect(storage.put('a/broken.png', lazyBytes(2_000_000, { failAfter: 500_000 }).stream)).rejects.toThrow();
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
    // The failed put also created no parent directory or file for its key.
    expect(await exists(path.join(root, 'a', 'broken.png'))).toBe(false);
  });

  it('copies by a second hard link: no bytes rewritten, no file fsync, the copy independent of the source', async () => {
    let fsyncs = 0;
    const counted = createDiskStorage({ root, signer, onFsync: () => fsyncs++ });
    await counted.put('workspace-temp/u1/j1/0.png', Buffer.from('original'));
    expect(fsyncs).toBe(2); // the file, then its directory
    fsyncs = 0;
    const info = await counted.copy('workspace-temp/u1/j1/0.png', 'workspace-temp/u1/j2/0.png');
    expect(info).toMatchObject({ key: 'workspace-temp/u1/j2/0.png', size: 8 });
    expect(fsyncs).toBe(1); // the new directory entry only
    const source = await stat(path.join(root, 'workspace-temp', 'u1', 'j1', '0.png'));
    const copy = await stat(path.join(root, 'workspace-temp', 'u1', 'j2', '0.png'));
    expect(copy.ino).toBe(source.ino);
    // A put replaces the key's file (rename), so the copy keeps the old bytes.
    await counted.put('workspace-temp/u1/j1/0.png', Buffer.from('changed'));
    expect(await readFile(path.join(root, 'workspace-temp', 'u1', 'j2', '0.png'), 'utf8')).toBe('original');
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
  });

  it('makes the temp directory again when it was removed behind its back, for puts and copies', async () => {
    await storage.put('a/one.png', Buffer.from('one'));
    await rm(path.join(root, '.tmp'), { recursive: true });
    await storage.put('a/two.png', Buffer.from('two'));
    await rm(path.join(root, '.tmp'), { recursive: true });
    await storage.copy('a/one.png', 'b/one.png');
    expect(await readFile(path.join(root, 'a', 'two.png'), 'utf8')).toBe('two');
    expect(await readFile(path.join(root, 'b', 'one.png'), 'utf8')).toBe('one');
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
  });

  it('removes the temp file when a put fails before any byte arrives', async () => {
    await expect(storage.put('b/broken.png', lazyBytes(10, { failAfter: 0 }).stream)).rejects.toThrow();
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
    expect(await exists(path.join(root, 'b'))).toBe(false);
  });

  it('removes parent directories that become empty after delete, but never the root', async () => {
    await storage.put('workspace-temp/u1/j1/0.png', Buffer.from('a'));
    await storage.put('workspace-temp/u1/j1/0.thumb.webp', Buffer.from('b'));
    await storage.put('workspace-temp/u1/j2/0.png', Buffer.from('c'));

    await storage.delete('workspace-temp/u1/j1/0.png');
    expect(await exists(path.join(root, 'workspace-temp/u1/j1'))).toBe(true); // thumbnail still there

    await storage.delete('workspace-temp/u1/j1/0.thumb.webp');
    expect(await exists(path.join(root, 'workspace-temp/u1/j1'))).toBe(false);
    expect(await exists(path.join(root, 'workspace-temp/u1/j2/0.png'))).toBe(true); // sibling job kept

    await storage.delete('workspace-temp/u1/j2/0.png');
    expect(await exists(path.join(root, 'workspace-temp'))).toBe(false);
    expect(await exists(root)).toBe(true);
  });

  it('delete of a key naming a directory removes nothing', async () => {
    await storage.put('d/e/f.png', Buffer.from('x'));
    await storage.delete('d/e');
    expect(await readFile(path.join(root, 'd/e/f.png'), 'utf8')).toBe('x');
  });

  it('stat and get report the content type from the extension, as disk keeps no metadata', async () => {
    const info = await storage.put('m/0.png', Buffer.from('x'), { contentType: 'application/x-custom' });
    expect(info.contentType).toBe('application/x-custom');
    expect((await storage.stat('m/0.png'))?.contentType).toBe('image/png');
  });

  it('a stream from get keeps reading the object it opened even if it is deleted meanwhile', async () => {
    await storage.put('g/0.png', Buffer.from('still here'));
    const stream = await storage.get('g/0.png');
    await storage.delete('g/0.png');
    expect((await readAll(stream)).toString()).toBe('still here');
  });

  it('sweeps temp files older than an hour in the background, keeping fresh ones', async () => {
    const otherRoot = await tempRoot();
    try {
      const tmp = path.join(otherRoot, '.tmp');
      await mkdir(tmp);
      await writeFile(path.join(tmp, 'stale.tmp'), 'left by a crash');
      await writeFile(path.join(tmp, 'fresh.tmp'), 'a put in flight');
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(path.join(tmp, 'stale.tmp'), twoHoursAgo, twoHoursAgo);

      createDiskStorage({ root: otherRoot, signer });
      await vi.waitFor(async () => expect(await readdir(tmp)).toEqual(['fresh.tmp']), { timeout: 5000 });
    } finally {
      await rm(otherRoot, { recursive: true, force: true });
    }
  });

  it('works on a root that does not exist yet', async () => {
    const fresh = createDiskStorage({ root: path.join(root, 'not', 'yet'), signer });
    expect(await fresh.stat('a/b.png')).toBeUndefined();
    await fresh.put('a/b.png', Buffer.from('x'));
    expect(await readFile(path.join(root, 'not/yet/a/b.png'), 'utf8')).toBe('x');
  });

  describe('signed URLs', () => {
    const key = 'workspace-temp/u1/j1/0.png';

    async function signed(options: { expiresInSeconds: number; downloadName?: string }, storageUnderTest = storage) {
      const url = new URL(await storageUnderTest.signedUrl(key, options), 'http://atelier.local');
      const query = parseSignedMediaQuery(Object.fromEntries(url.searchParams));
      if (query === undefined) throw new Error(`signed URL lacks its query: ${url.href}`);
      return { url, query };
    }

    it('is a relative /media URL whose query verifies with the signer', async () => {
      const raw = await storage.signedUrl(key, { expiresInSeconds: 600 });
      expect(raw.startsWith(`/media/${key}?`)).toBe(true);
      const { url, query } = await signed({ expiresInSeconds: 600 });
      expect(url.pathname).toBe(`/media/${key}`);
      expect(Number(query.expires)).toBeGreaterThan(Date.now() / 1000 + 590);
      expect(Number(query.expires)).toBeLessThanOrEqual(Date.now() / 1000 + 600);
      expect(signer.verify(key, query.expires, query.signature)).toBe(true);
    });

    it('fails after it expires', async () => {
      const { query } = await signed({ expiresInSeconds: 60 });
      expect(signer.verify(key, query.expires, query.signature, new Date(Date.now() + 30_000))).toBe(true);
      expect(signer.verify(key, query.expires, query.signature, new Date(Date.now() + 61_000))).toBe(false);
    });

    it('fails when the key, expiry or signature is tampered with', async () => {
      const { query } = await signed({ expiresInSeconds: 600 });
      expect(signer.verify('workspace-temp/u2/j1/0.png', query.expires, query.signature)).toBe(false);
      expect(signer.verify(key, String(Number(query.expires) + 1000), query.signature)).toBe(false);
      const flipped = (query.signature[0] === 'A' ? 'B' : 'A') + query.signature.slice(1);
      expect(signer.verify(key, query.expires, flipped)).toBe(false);
      expect(signer.verify(key, query.expires, query.signature.slice(1))).toBe(false);
      expect(createUrlSigner('another secret').verify(key, query.expires, query.signature)).toBe(false);
    });

    it('carries a URL-encoded download name that is covered by the signature', async () => {
      const raw = await storage.signedUrl(key, { expiresInSeconds: 600, downloadName: 'sunset & sea #1.png' });
      expect(raw).toContain('&download=sunset%20%26%20sea%20%231.png');
      const { query } = await signed({ expiresInSeconds: 600, downloadName: 'sunset & sea #1.png' });
      expect(query.downloadName).toBe('sunset & sea #1.png');
      expect(signer.verify(key, query.expires, query.signature, undefined, query.downloadName)).toBe(true);
      expect(signer.verify(key, query.expires, query.signature, undefined, 'evil.exe')).toBe(false);
      expect(signer.verify(key, query.expires, query.signature)).toBe(false);
    });

    it('honours a custom urlPrefix', async () => {
      const custom = createDiskStorage({ root, signer, urlPrefix: '/files/' });
      expect(await custom.signedUrl(key, { expiresInSeconds: 60 })).toMatch(new RegExp(`^/files/${key}\\?expires=\\d+&signature=`));
    });

    it('rejects a non-positive lifetime', async () => {
      await expect(storage.signedUrl(key, { expiresInSeconds: 0 })).rejects.toMatchObject({ code: 'invalid_parameter' });
      await expect(storage.signedUrl(key, { expiresInSeconds: Number.NaN })).rejects.toMatchObject({ code: 'invalid_parameter' });
    });
  });

  describe('parseSignedMediaQuery', () => {
    it('picks the fields and refuses missing or repeated ones', () => {
      expect(parseSignedMediaQuery({ expires: '1', signature: 's' })).toEqual({ expires: '1', signature: 's', downloadName: undefined });
      expect(parseSignedMediaQuery({ expires: '1', signature: 's', download: 'a.png' })?.downloadName).toBe('a.png');
      expect(parseSignedMediaQuery({ expires: '1', signature: 's', download: '' })?.downloadName).toBeUndefined();
      expect(parseSignedMediaQuery({ expires: '1' })).toBeUndefined();
      expect(parseSignedMediaQuery({ expires: ['1', '2'], signature: 's' })).toBeUndefined();
      expect(parseSignedMediaQuery({ expires: '1', signature: 's', download: ['a', 'b'] })).toBeUndefined();
      expect(parseSignedMediaQuery(null)).toBeUndefined();
    });
  });
});
