import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteAssetCompletely } from '../../src/service/delete-asset.js';
import { sweepRetention } from '../../src/service/retention.js';
import { assetKeys } from '../../src/storage/keys.js';
import type { Storage } from '../../src/storage/storage.js';
import { DAY, HOUR, NOW, openFixture, type Fixture } from './retention-fixture.js';

describe('sweepRetention', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.close();
  });

  const allExist = async (keys: readonly string[]) => (await Promise.all(keys.map(f.exists))).every(Boolean);
  const noneExist = async (keys: readonly string[]) => !(await Promise.all(keys.map(f.exists))).some(Boolean);

  it('sweeps an expired workspace item with all its files and keeps its library copy and fresh items', async () => {
    const { id: jobId } = await f.job({ createdAt: NOW - 2 * HOUR });
    const expired = await f.asset(jobId, { createdAt: NOW - 25 * HOUR, expiresAt: NOW - HOUR });
    const libraryCopy = await f.asset(jobId, { collection: 'library', createdAt: NOW - 25 * HOUR });
    const { id: freshJob } = await f.job();
    const fresh = await f.asset(freshJob, { createdAt: NOW - HOUR, expiresAt: NOW + 23 * HOUR });
    expect(assetKeys(expired)).toHaveLength(4);

    const result = await sweepRetention(f.deps(), { now: NOW });

    expect(result).toMatchObject({ assets: 1, uploads: 0, jobInputs: 0, files: 4, failed: 0 });
    expect(result.items).toEqual([{ kind: 'asset', id: expired.id, keys: assetKeys(expired) }]);
    expect(await f.db.selectFrom('assets').select('id').where('id', '=', expired.id).executeTakeFirst()).toBeUndefined();
    expect(await noneExist(assetKeys(expired))).toBe(true);
    expect(await f.assets.findForUser(libraryCopy.id, f.user.id)).toBeDefined();
    expect(await allExist(assetKeys(libraryCopy))).toBe(true);
    expect(await f.assets.findForUser(fresh.id, f.user.id)).toBeDefined();
    expect(await allExist(assetKeys(fresh))).toBe(true);
    expect(await f.counter('asset')).toBe(1);
  });

  it('sweeps workspace items older than the retention even without an expiry, never library items', async () => {
    const { id: jobId } = await f.job({ createdAt: NOW - 40 * DAY });
    const old = await f.asset(jobId, { index: 0, createdAt: NOW - 31 * DAY, expiresAt: null });
    const young = await f.asset(jobId, { index: 1, createdAt: NOW - 29 * DAY, expiresAt: null });
    const ancientLibrary = await f.asset(jobId, { collection: 'library', createdAt: NOW - 400 * DAY });

    const result = await sweepRetention(f.deps(), { now: NOW });

    expect(result.items.map((i) => i.id)).toEqual([old.id]);
    expect(await noneExist(assetKeys(old))).toBe(true);
    expect(await f.assets.findForUser(young.id, f.user.id)).toBeDefined();
    expect(await f.assets.findForUser(ancientLibrary.id, f.user.id)).toBeDefined();
    expect(await allExist([...assetKeys(young), ...assetKeys(ancientLibrary)])).toBe(true);

    // retentionDays is the knob: with 7 days the 29-day-old item goes too.
    const shorter = await sweepRetention(f.deps({ retentionDays: 7 }), { now: NOW });
    expect(shorter.items.map((i) => i.id)).toEqual([young.id]);
    expect(await f.assets.findForUser(ancientLibrary.id, f.user.id)).toBeDefined();
  });

  it('sweeps uploads older than the retention, with their file', async () => {
    const old = await f.upload({ createdAt: NOW - 31 * DAY });
    const oldPending = await f.upload({ createdAt: NOW - 31 * DAY, pending: true });
    const fresh = await f.upload({ createdAt: NOW - 29 * DAY });

    const result = await sweepRetention(f.deps(), { now: NOW });

    expect(result).toMatchObject({ assets: 0, uploads: 2, jobInputs: 0, files: 1 });
    expect(await f.uploads.findById(old.id)).toBeUndefined();
    expect(await f.uploads.findById(oldPending.id)).toBeUndefined();
    expect(await f.exists(old.key!)).toBe(false);
    expect(await f.uploads.findById(fresh.id)).toBeDefined();
    expect(await f.exists(fresh.key!)).toBe(true);
    expect(await f.counter('upload')).toBe(2);
  });

  it('sweeps the input copies of old terminal jobs only, once, and leaves the job rows', async () => {
    const old = NOW - 31 * DAY;
    const succeeded = await f.job({ status: 'succeeded', createdAt: old, inputs: ['reference'] });
    const failed = await f.job({ status: 'failed', createdAt: old, inputs: ['start', 'end'] });
    const canceled = await f.job({ status: 'canceled', createdAt: old, inputs: ['start'] });
    const running = await f.job({ status: 'running', createdAt: old, inputs: ['reference'] });
    const queued = await f.job({ status: 'queued', createdAt: old, inputs: ['reference'] });
    const recent = await f.job({ status: 'succeeded', createdAt: old, finishedAt: NOW - 29 * DAY, inputs: ['reference'] });
    const upload = await f.upload({ createdAt: NOW - HOUR });
    const foreign = await f.job({ status: 'succeeded', createdAt: old, foreignReference: upload.key! });

    const result = await sweepRetention(f.deps(), { now: NOW });

    expect(result).toMatchObject({ assets: 0, uploads: 0, jobInputs: 4, files: 4 });
    expect(result.items.map((i) => i.id).sort()).toEqual([succeeded.id, failed.id, canceled.id].sort());
    expect(await noneExist([...succeeded.inputKeys, ...failed.inputKeys, ...canceled.inputKeys])).toBe(true);
    expect(await allExist([...running.inputKeys, ...queued.inputKeys, ...recent.inputKeys])).toBe(true);
    // A key outside the job's own job-inputs/ prefix belongs to something else.
    expect(await f.exists(upload.key!)).toBe(true);
    expect(await f.jobs.findById(succeeded.id)).toMatchObject({ status: 'succeeded' });
    expect(await f.counter('job_input')).toBe(4);

    // Swept jobs are recorded: the next sweep neither recounts nor re-reads them.
    expect(await sweepRetention(f.deps(), { now: NOW + HOUR })).toMatchObject({ jobInputs: 0, files: 0, items: [] });
    const swept = await f.db.selectFrom('job_input_sweeps').select('job_id').execute();
    expect(swept.map((r) => r.job_id).sort()).toEqual([succeeded.id, failed.id, canceled.id].sort());
    // The foreign-key job has no input copies of its own, so it never even matches the pre-filter.
    expect(swept.map((r) => r.job_id)).not.toContain(foreign.id);
  });

  it('survives a crash mid-sweep: the marked row is hidden at once and the next sweep finishes it', async () => {
    const { id: jobId } = await f.job({ createdAt: NOW - 2 * DAY });
    const victim = await f.asset(jobId, { createdAt: NOW - 2 * DAY, expiresAt: NOW - DAY });
    const keys = assetKeys(victim);
    // The thumbnail's delete fails once: the original is gone by then, the rest is not.
    let failures = 0;
    const flaky: Storage = {
      ...f.storage,
      async delete(key) {
        if (key === victim.thumbnail_key && failures++ === 0) throw new Error('simulated crash');
        return f.storage.delete(key);
      },
    };

    const first = await sweepRetention(f.deps({ storage: flaky }), { now: NOW });
    expect(first).toMatchObject({ assets: 0, failed: 1, items: [] });
    expect(await f.exists(keys[0]!)).toBe(false);
    expect(await allExist(keys.slice(1))).toBe(true);
    // The row still exists but no API query shows it.
    expect(await f.db.selectFrom('assets').select('deleting_at').where('id', '=', victim.id).executeTakeFirst()).toEqual({ deleting_at: NOW });
    expect(await f.assets.findForUser(victim.id, f.user.id)).toBeUndefined();
    expect(await f.assets.listForJob(jobId)).toEqual([]);
    expect(await f.assets.findCopy(jobId, 'workspace', 0)).toBeUndefined();
    expect(await f.assets.historyPage(f.user.id, 'image', 1, 20)).toEqual({ rows: [], total: 0 });

    const second = await sweepRetention(f.deps({ storage: flaky }), { now: NOW + HOUR });
    expect(second).toMatchObject({ assets: 1, failed: 0, files: 4 });
    expect(await noneExist(keys)).toBe(true);
    expect(await f.listFiles()).toEqual([]);
    const rows = await f.db.selectFrom('assets').selectAll().execute();
    for (const row of rows) expect(await allExist(assetKeys(row))).toBe(true);
    expect(rows).toEqual([]);
  });

  it('finishes a delete that crashed outside a sweep — even of a library item — since the owner asked for it', async () => {
    const { id: jobId } = await f.job();
    const library = await f.asset(jobId, { collection: 'library' });
    const broken: Storage = { ...f.storage, delete: async () => Promise.reject(new Error('simulated crash')) };
    await expect(deleteAssetCompletely(f.assets, broken, library, NOW)).rejects.toThrow('simulated crash');
    expect(await f.assets.findForUser(library.id, f.user.id)).toBeUndefined();

    const result = await sweepRetention(f.deps(), { now: NOW });
    expect(result.items).toEqual([{ kind: 'asset', id: library.id, keys: assetKeys(library) }]);
    expect(await f.listFiles()).toEqual([]);
  });

  it('refuses to complete an upload once retention has marked it', async () => {
    const pending = await f.upload({ createdAt: NOW - 31 * DAY, pending: true });
    await f.uploads.markOlderThan(NOW - 30 * DAY, NOW);
    expect(await f.uploads.complete(pending.id, 'uploads/x/y/z.png', {}, NOW)).toBe(false);
    expect(await f.uploads.findById(pending.id)).toBeUndefined();
  });

  it('a dry run reports exactly what a sweep then deletes, and changes nothing', async () => {
    const { id: jobId } = await f.job({ createdAt: NOW - 40 * DAY, inputs: ['reference'] });
    await f.asset(jobId, { index: 0, createdAt: NOW - 40 * DAY, expiresAt: null });
    await f.asset(jobId, { index: 1, createdAt: NOW - 2 * DAY, expiresAt: NOW - DAY });
    await f.asset(jobId, { collection: 'library', createdAt: NOW - 40 * DAY });
    await f.asset((await f.job()).id);
    await f.upload({ createdAt: NOW - 31 * DAY });
    await f.upload();
    // A row a crashed sweep left marked is reported too.
    const { id: otherJob } = await f.job();
    const marked = await f.asset(otherJob);
    await f.assets.markDeleting(marked.id, NOW - HOUR);

    const rowsBefore = await f.snapshotRows();
    const filesBefore = await f.listFiles();
    const dry = await sweepRetention(f.deps(), { now: NOW, dryRun: true });
    expect(dry).toMatchObject({ assets: 3, uploads: 1, jobInputs: 1, files: 14, failed: 0 });
    expect(await f.snapshotRows()).toEqual(rowsBefore);
    expect(await f.listFiles()).toEqual(filesBefore);
    for (const kind of ['asset', 'upload', 'job_input']) expect(await f.counter(kind)).toBe(0);
    // Every reported key exists now.
    expect(await allExist(dry.items.flatMap((i) => i.keys))).toBe(true);

    const real = await sweepRetention(f.deps(), { now: NOW });
    expect(real).toMatchObject({ assets: 3, uploads: 1, jobInputs: 1, files: 14 });
    expect([...real.items].sort(byId)).toEqual([...dry.items].sort(byId));
    expect(await noneExist(dry.items.flatMap((i) => i.keys))).toBe(true);
  });
});

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
