import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeldUploads, type HeldUploads } from '../../src/remote-workers/held-uploads.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import type { InjectServer } from '../helpers/test-server.js';
import { addWorker, injectWorker, REMOTE_IMAGE_MODEL, startRemoteInjectServer, successCallback } from './worker-helpers.js';

/** Streams `bytes` through an upload's tap, as the upload route does on its way to storage. */
async function upload(held: HeldUploads, jobId: string, key: string, bytes: Buffer) {
  const started = held.begin(jobId, key);
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]), started.tap, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  return started;
}

describe('held uploads', () => {
  it('holds what was stored, until the job is forgotten', async () => {
    const held = createHeldUploads(1000);
    (await upload(held, 'j', 'k0', Buffer.from('abcdef'))).end(true);
    expect(held.find('j', 'k0')?.toString()).toBe('abcdef');
    expect(held.find('j', 'k1')).toBeUndefined();
    held.forget('j');
    expect(held.find('j', 'k0')).toBeUndefined();
  });

  it('holds nothing for an upload storage did not take, and drops what a new upload of the key replaces', async () => {
    const held = createHeldUploads(1000);
    (await upload(held, 'j', 'k', Buffer.from('first'))).end(true);
    const failed = await upload(held, 'j', 'k', Buffer.from('second'));
    expect(held.find('j', 'k')).toBeUndefined();
    failed.end(false);
    expect(held.find('j', 'k')).toBeUndefined();
  });

  it('holds neither of two uploads of one key that overlapped', async () => {
    const held = createHeldUploads(1000);
    const a = await upload(held, 'j', 'k', Buffer.from('aaaa'));
    const b = await upload(held, 'j', 'k', Buffer.from('bbbb'));
    a.end(true);
    b.end(true);
    expect(held.find('j', 'k')).toBeUndefined();
  });

  it('stays within its bytes: the oldest job goes first, an upload over a tenth is never held', async () => {
    const held = createHeldUploads(100);
    (await upload(held, 'old', 'k', Buffer.alloc(10, 1))).end(true);
    (await upload(held, 'mid', 'k', Buffer.alloc(10, 2))).end(true);
    (await upload(held, 'big', 'k', Buffer.alloc(11, 3))).end(true);
    expect(held.find('big', 'k')).toBeUndefined();
    for (let i = 0; i < 9; i++) (await upload(held, `new${i}`, 'k', Buffer.alloc(10, 4))).end(true);
    expect(held.find('old', 'k')).toBeUndefined();
    expect(held.find('mid', 'k')).toBeDefined();
    expect(held.find('new8', 'k')).toBeDefined();
  });
});

describe('a staged callback on the node that received the uploads', () => {
  let t: InjectServer;
  let user: ApiClient;
  let worker: ReturnType<typeof injectWorker>;

  beforeAll(async () => {
    t = await startRemoteInjectServer();
    user = apiClient(t, t.adminToken);
    worker = injectWorker(t, await addWorker(t, 'staged-box'));
  });
  afterAll(async () => {
    await t?.close();
  });

  const storageRequests = async () => new Map((await t.server.metrics.storageRequests.get()).values.map((v) => [v.labels.op as string, v.value]));

  it('neither checks for nor reads back what it stored, and commits those pixels', async () => {
    const run = await user.submit({ prompt: 'a kite', model: REMOTE_IMAGE_MODEL, width: 64, height: 64, steps: 2, seed: 9, num_images: 2 });
    const claimed = await worker.claimJob({ wait_seconds: 10, upload_mode: 'direct' });
    expect(claimed.job_id).toBe(run.runId);
    const pngs = await Promise.all([0, 1].map((i) => sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40 * i, g: 90, b: 160 } } }).png().toBuffer()));
    const keys: string[] = [];
    for (const [i, url] of claimed.upload.urls.entries()) {
      const staged = await worker.upload(url, pngs[i]!);
      expect(staged.status, staged.text).toBe(200);
      keys.push(staged.body.url);
    }
    const before = await storageRequests();
    const done = await worker.complete(claimed.job_id, successCallback(claimed, keys));
    expect(done.status, done.text).toBe(200);
    expect(done.body.status).toBe('succeeded');
    const after = await storageRequests();
    expect((after.get('stat') ?? 0) - (before.get('stat') ?? 0)).toBe(0);
    expect((after.get('get') ?? 0) - (before.get('get') ?? 0)).toBe(0);
    const assets = (await user.status(claimed.job_id)).body.assets;
    for (const asset of assets) {
      const original = (await user.download(asset.url)).bytes;
      expect((await sharp(original).removeAlpha().raw().toBuffer()).equals(await sharp(pngs[asset.index]!).removeAlpha().raw().toBuffer())).toBe(true);
    }
  });
});
