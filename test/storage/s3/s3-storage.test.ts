import { createHash } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createS3Storage, type S3Storage } from '../../../src/storage/s3/s3-storage.js';
import { lazyBytes, readAll, storageContract } from '../../contract/storage-contract.js';
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../../helpers/s3-test-server.js';

let server: S3TestServer;
let admin: S3Client;
let bucketCount = 0;

beforeAll(async () => {
  server = await startS3TestServer();
  admin = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
});
afterAll(async () => {
  admin?.destroy();
  await server?.close();
});

async function freshBucket(): Promise<string> {
  const bucket = `atelier-test-${++bucketCount}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

function s3Storage(bucket: string, prefix?: string): Promise<S3Storage> {
  return createS3Storage({ bucket, endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, ...(prefix ? { prefix } : {}) });
}

// A fresh bucket per test: the contract wants an empty storage each time.
storageContract('s3 (s3rver)', async () => {
  const storage = await s3Storage(await freshBucket());
  return { storage, cleanup: async () => storage.close() };
});

describe('S3 storage specifics', () => {
  let bucket: string;
  let storage: S3Storage;
  const key = 'workspace-temp/u1/j1/0.png';

  beforeEach(async () => {
    bucket = await freshBucket();
    storage = await s3Storage(bucket);
    return () => storage.close();
  });

  describe('signed URLs', () => {
    it('can be fetched without credentials and serve the bytes with their type', async () => {
      await storage.put(key, Buffer.from('png bytes'));
      const url = await storage.signedUrl(key, { expiresInSeconds: 60 });
      expect(url.startsWith(`${server.endpoint}/${bucket}/${key}?`)).toBe(true);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('png bytes');
    });

    it('carry a signed Content-Disposition for a download name', async () => {
      await storage.put(key, Buffer.from('x'));
      const url = await storage.signedUrl(key, { expiresInSeconds: 60, downloadName: 'sunset & sea.png' });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="sunset___sea.png"; filename*=UTF-8''sunset%20%26%20sea.png`);
      // The disposition is covered by the signature: rewriting it is refused.
      const rewritten = url.replace(/response-content-disposition=[^&]+/, 'response-content-disposition=inline');
      expect((await fetch(rewritten)).status).toBe(403);
    });

    it('are refused once expired', async () => {
      await storage.put(key, Buffer.from('x'));
      const url = await storage.signedUrl(key, { expiresInSeconds: 1 });
      expect((await fetch(url)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2100));
      const response = await fetch(url);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('Request has expired');
    });

    it('are refused when the signature or the key is tampered with', async () => {
      await storage.put(key, Buffer.from('x'));
      await storage.put('workspace-temp/u2/j1/0.png', Buffer.from('someone else'));
      const url = await storage.signedUrl(key, { expiresInSeconds: 60 });
      expect((await fetch(url)).status).toBe(200);
      const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(url)![1]!;
      const flipped = (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1);
      expect((await fetch(url.replace(signature, flipped))).status).toBe(403);
      expect((await fetch(url.replace('/u1/', '/u2/'))).status).toBe(403);
    });

    it('reject lifetimes SigV4 cannot express', async () => {
      await expect(storage.signedUrl(key, { expiresInSeconds: 0 })).rejects.toMatchObject({ code: 'invalid_parameter' });
      await expect(storage.signedUrl(key, { expiresInSeconds: 8 * 24 * 3600 })).rejects.toMatchObject({ code: 'invalid_parameter' });
    });
  });

  it('streams a ~20 MB source through a multipart upload, part by part', async () => {
    const total = 20 * 1024 * 1024 + 777;
    const source = lazyBytes(total);
    const before = server.requests.length;
    const info = await storage.put('videos/big.mp4', source.stream);
    expect(info.size).toBe(total);

    const seen = server.requests.slice(before).filter((r) => r.includes(`/${bucket}/videos/big.mp4`));
    expect(seen.some((r) => r.startsWith('POST') && /[?&]uploads(=|&|$)/.test(r))).toBe(true);
    expect(seen.filter((r) => r.startsWith('PUT') && /partNumber=\d+/.test(r))).toHaveLength(5);
    expect(seen.some((r) => r.startsWith('POST') && /uploadId=/.test(r))).toBe(true);

    const back = await readAll(await storage.get('videos/big.mp4'));
    expect(back.length).toBe(total);
    expect(createHash('sha256').update(back).digest('hex')).toBe(source.hash());
  });

  it('aborts the multipart upload when the source fails after parts were sent', async () => {
    const before = server.requests.length;
    await expect(storage.put('videos/broken.mp4', lazyBytes(20 * 1024 * 1024, { failAfter: 12 * 1024 * 1024 }).stream)).rejects.toThrow(
      'source stream broke midway',
    );
    const seen = server.requests.slice(before);
    expect(seen.some((r) => r.startsWith('PUT') && r.includes('partNumber=1'))).toBe(true);
    expect(seen.some((r) => r.startsWith('DELETE') && r.includes('uploadId='))).toBe(true);
    // s3rver answers AbortMultipartUpload with 405 (it does not implement it); the adapter must
    // still report the source's error, not the failed abort's.
    expect(await storage.stat('videos/broken.mp4')).toBeUndefined();
  });

  it('stores keys under the prefix, and keeps prefixed storages apart', async () => {
    const prod = await s3Storage(bucket, '/prod/v1/');
    const staging = await s3Storage(bucket, 'staging');
    try {
      await prod.put(key, Buffer.from('prod'));
      const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: `prod/v1/${key}` }));
      expect(head.ContentLength).toBe(4);
      expect(await staging.stat(key)).toBeUndefined();
      expect(await storage.stat(key)).toBeUndefined();
      expect(await prod.signedUrl(key, { expiresInSeconds: 60 })).toContain(`/${bucket}/prod/v1/${key}?`);
    } finally {
      prod.close();
      staging.close();
    }
  });

  it('refuses an unsafe prefix as configuration', async () => {
    await expect(s3Storage(bucket, '../other')).rejects.toMatchObject({ code: 'config_invalid', field: 'prefix' });
  });

  it('reports a missing bucket as a failure, not as a missing object', async () => {
    const nowhere = await s3Storage('no-such-bucket');
    try {
      const error = await nowhere.get(key).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'NoSuchBucket' });
    } finally {
      nowhere.close();
    }
  });
});

describe('createS3Storage loading', () => {
  it('imports the AWS SDK only when a storage is created', async () => {
    vi.resetModules();
    const loaded: string[] = [];
    for (const name of ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner']) {
      vi.doMock(name, async (importOriginal) => {
        loaded.push(name);
        return importOriginal();
      });
    }
    try {
      const module = await import('../../../src/storage/s3/s3-storage.js');
      expect(loaded).toEqual([]);
      const storage = await module.createS3Storage({ bucket: 'lazy', endpoint: server.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
      storage.close();
      expect(loaded.sort()).toEqual(['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner']);
    } finally {
      vi.doUnmock('@aws-sdk/client-s3');
      vi.doUnmock('@aws-sdk/lib-storage');
      vi.doUnmock('@aws-sdk/s3-request-presigner');
      vi.resetModules();
    }
  });
});
