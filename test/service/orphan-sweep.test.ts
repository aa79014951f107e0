import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetRow, JobRow, UploadRow } from '../../src/db/schema.js';
import { sweepOrphans } from '../../src/service/orphan-sweep.js';
import { createDiskStorage } from '../../src/storage/disk/disk-storage.js';
import { storageKeys } from '../../src/storage/keys.js';
import { createS3Storage } from '../../src/storage/s3/s3-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../helpers/s3-test-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const HOUR = 3600_000;

/** The rows a sweep consults, as the repos would return them. */
function rows() {
  const jobs = new Map<string, Pick<JobRow, 'id' | 'status' | 'spec'>>();
  const assets = new Map<string, Pick<AssetRow, 'storage_key' | 'thumbnail_key' | 'variants'>[]>();
  const uploads = new Map<string, Pick<UploadRow, 'id' | 'storage_key'>>();
  return {
    jobs,
    assets,
    uploads,
    deps: (storage: Storage) => ({
      storage,
      jobs: { findById: async (id: string) => jobs.get(id) as JobRow | undefined },
      assets: { listForJob: async (id: string) => (assets.get(id) ?? []) as AssetRow[] },
      uploads: { findById: async (id: string) => uploads.get(id) as UploadRow | undefined },
    }),
  };
}

const backends: { name: string; make: () => Promise<{ storage: Storage; close: () => Promise<void> }> }[] = [
  {
    name: 'disk',
    make: async () => {
      const tmp = await makeTempDir('atelier-orphans-');
      return { storage: createDiskStorage({ root: tmp.dir, signer: createUrlSigner('orphan-test') }), close: tmp.remove };
    },
  },
  {
    name: 'S3',
    make: async () => {
      const s3: S3TestServer = await startS3TestServer(['orphans']);
      const storage = await createS3Storage({ bucket: 'orphans', prefix: 'p', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
      return { storage, close: () => s3.close() };
    },
  },
];

describe.each(backends)('sweepOrphans on $name', ({ make }) => {
  let storage: Storage;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, close } = await make());
  });
  afterAll(async () => {
    await close();
  });

  it('deletes old bytes that no row owns and keeps everything a row owns or that is still young', async () => {
    const r = rows();
    const put = (key: string) => storage.put(key, Buffer.from(key));
    // A finished job with one asset (original, thumbnail, variant) and a held input.
    const done = { user: 'u1', job: 'j-done' };
    const original = storageKeys.workspaceOriginal(done.user, done.job, 0);
    const thumb = storageKeys.workspaceThumbnail(done.user, done.job, 0);
    const variant = storageKeys.variant(original, 'sd', 'normal', 'jpeg');
    const input = storageKeys.jobInput(done.user, done.job, 'reference', 'png');
    r.jobs.set(done.job, { id: done.job, status: 'succeeded', spec: JSON.stringify({ reference: { key: input } }) });
    r.assets.set(done.job, [{ storage_key: original, thumbnail_key: thumb, variants: JSON.stringify([{ key: variant }]) }]);
    // The same job's second image, written by an attempt that never committed.
    const stray = storageKeys.workspaceOriginal(done.user, done.job, 1);
    // A submission whose process died before its row: copies of a job that does not exist.
    const unrecorded = storageKeys.jobInput('u1', 'j-never', 'reference', 'png');
    // A running job's files and a worker's staged upload belong to the attempt in progress.
    const running = storageKeys.workspaceOriginal('u1', 'j-running', 0);
    const staged = storageKeys.workerUpload('j-running', 1, 0, 'png');
    r.jobs.set('j-running', { id: 'j-running', status: 'running', spec: '{}' });
    // A failed job's staged upload has no owner any more.
    const staleStaged = storageKeys.workerUpload('j-failed', 1, 0, 'png');
    r.jobs.set('j-failed', { id: 'j-failed', status: 'failed', spec: '{}' });
    // Uploads: one recorded, one whose row is gone.
    const upload = storageKeys.upload('u1', 'up-1', 'x', 'png');
    r.uploads.set('up-1', { id: 'up-1', storage_key: upload });
    const lostUpload = storageKeys.upload('u1', 'up-gone', 'x', 'png');
    for (const key of [original, thumb, variant, input, stray, unrecorded, running, staged, staleStaged, upload, lostUpload]) await put(key);

    // Everything is younger than the grace period: nothing goes.
    const young = await sweepOrphans(r.deps(storage), { now: Date.now(), graceMs: HOUR });
    expect(young.keys).toEqual([]);

    const dry = await sweepOrphans(r.deps(storage), { now: Date.now() + 2 * HOUR, graceMs: HOUR, dryRun: true });
    const orphans = [stray, unrecorded, staleStaged, lostUpload].sort();
    expect([...dry.keys].sort()).toEqual(orphans);
    for (const key of orphans) expect(await storage.stat(key)).toBeDefined();

    const swept = await sweepOrphans(r.deps(storage), { now: Date.now() + 2 * HOUR, graceMs: HOUR });
    expect([...swept.keys].sort()).toEqual(orphans);
    for (const key of orphans) expect(await storage.stat(key), key).toBeUndefined();
    for (const key of [original, thumb, variant, input, running, staged, upload]) expect(await storage.stat(key), key).toBeDefined();
  });
});
