import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetKeys } from '../../src/storage/keys.js';
import { apiClient, readResponse } from '../helpers/api.js';
import { killAllSpawned, runCli } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestServer } from '../helpers/test-server.js';

const DAY = 24 * 3600_000;

interface Prepared {
  /** Workspace item past its expires_at. */
  expired: string;
  /** Workspace item older than 30 days, no expiry. */
  old: string;
  /** The library copy of `expired`'s image, created long ago. */
  library: string;
  /** The img2img result: fresh, kept. */
  fresh: string;
  uploadId: string;
  /** The img2img job, finished long ago: its input copy goes. */
  i2iJob: string;
}

describe('atelier cleanup', () => {
  let dataDir: string;
  let prepared: Prepared;
  const env = () => ({ DATA_DIR: dataDir, RETENTION_SWEEP_MINUTES: '0' });

  const sqlite = (readonly = true) => new Database(join(dataDir, 'atelier.db'), { readonly });
  const media = (key: string) => join(dataDir, 'media', ...key.split('/'));
  const keysOf = (id: string): string[] => {
    const db = sqlite();
    try {
      return assetKeys(db.prepare('select storage_key, thumbnail_key, variants from assets where id = ?').get(id) as { storage_key: string });
    } finally {
      db.close();
    }
  };
  async function snapshot() {
    const files = (await readdir(join(dataDir, 'media'), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => relative(join(dataDir, 'media'), join(e.parentPath, e.name)))
      .filter((p) => !p.startsWith('.tmp'))
      .sort();
    const db = sqlite();
    try {
      const rows = ['assets', 'uploads', 'jobs', 'job_input_sweeps'].map((table) => db.prepare(`select * from ${table} order by 1`).all());
      return { files, rows };
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    // A real server makes the data (images, variants, an upload, an img2img job's input copy) …
    const t = await startTestServer({ RETENTION_SWEEP_MINUTES: '0' });
    dataDir = t.dataDir;
    const { token } = await t.addUser('erin');
    const erin = apiClient(t, token);
    const run = await erin.generate({ prompt: 'an old photograph', width: 64, height: 64, steps: 1, seed: 1, num_images: 2 });
    const saved = await erin.post(`/api/images/${run.assets[0].id}/save`);
    const form = new FormData();
    form.append('file', new Blob([await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer()]), 'ref.png');
    const uploaded = await readResponse(await fetch(`${t.url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form }));
    expect(uploaded.status, uploaded.text).toBe(201);
    const i2i = await erin.post('/api/generate/image-to-image', { prompt: 'x', width: 64, height: 64, steps: 1, reference_image: { upload_id: uploaded.body.uploadId } });
    expect(i2i.status, i2i.text).toBe(202);
    const done = await erin.waitFor(i2i.body.runId);
    expect(done.status).toBe('succeeded');
    await t.server.close();
    prepared = { expired: run.assets[0].id, old: run.assets[1].id, library: saved.body.id, fresh: done.assets[0].id, uploadId: uploaded.body.uploadId, i2iJob: done.runId };

    // … then time passes, by editing the dates.
    const db = sqlite(false);
    try {
      const now = Date.now();
      db.prepare('update assets set expires_at = ? where id = ?').run(now - 1000, prepared.expired);
      db.prepare('update assets set created_at = ?, expires_at = null where id = ?').run(now - 31 * DAY, prepared.old);
      db.prepare('update assets set created_at = ? where id = ?').run(now - 400 * DAY, prepared.library);
      db.prepare('update uploads set created_at = ? where id = ?').run(now - 31 * DAY, prepared.uploadId);
      db.prepare('update jobs set finished_at = ? where id = ?').run(now - 31 * DAY, prepared.i2iJob);
    } finally {
      db.close();
    }
  });
  afterAll(async () => {
    await killAllSpawned();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('--dry-run lists what would go, with counts and keys, and changes nothing', async () => {
    const before = await snapshot();
    const inputKey = before.files.find((f) => f.startsWith(`job-inputs/`) && f.includes(prepared.i2iJob))!;
    expect(inputKey).toBeDefined();

    const result = await runCli(['cleanup', '--dry-run'], { env: env() });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Dry run: would delete 2 assets, 1 upload, 1 job input (10 files); nothing was changed.');
    for (const id of [prepared.expired, prepared.old]) {
      expect(result.stdout).toContain(`asset ${id}\n`);
      for (const key of keysOf(id)) expect(result.stdout).toContain(`  ${key}\n`);
    }
    expect(result.stdout).toContain(`upload ${prepared.uploadId}\n`);
    expect(result.stdout).toContain(`job_input ${prepared.i2iJob}\n  ${inputKey}\n`);
    expect(result.stdout).not.toContain(prepared.library);
    expect(result.stdout).not.toContain(prepared.fresh);
    expect(await snapshot()).toEqual(before);
  });

  it('deletes them — rows and files — and keeps the library copy and fresh items', async () => {
    const expiredKeys = keysOf(prepared.expired);
    const oldKeys = keysOf(prepared.old);
    const libraryKeys = keysOf(prepared.library);
    const freshKeys = keysOf(prepared.fresh);

    const result = await runCli(['cleanup'], { env: env() });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('Deleted 2 assets, 1 upload, 1 job input (10 files).\n');
    const db = sqlite();
    try {
      const ids = (db.prepare('select id from assets').all() as { id: string }[]).map((r) => r.id).sort();
      expect(ids).toEqual([prepared.library, prepared.fresh].sort());
      expect(db.prepare('select count(*) as n from uploads').get()).toEqual({ n: 0 });
      expect(db.prepare('select job_id from job_input_sweeps').all()).toEqual([{ job_id: prepared.i2iJob }]);
      // The run records stay; only their media went.
      expect(db.prepare('select count(*) as n from jobs').get()).toEqual({ n: 2 });
    } finally {
      db.close();
    }
    for (const key of [...expiredKeys, ...oldKeys]) expect(existsSync(media(key)), key).toBe(false);
    for (const key of [...libraryKeys, ...freshKeys]) expect(existsSync(media(key)), key).toBe(true);
    const files = (await snapshot()).files;
    expect(files.filter((f) => f.startsWith('uploads/') || f.startsWith('job-inputs/'))).toEqual([]);

    const again = await runCli(['cleanup'], { env: env() });
    expect(again.stdout).toBe('Deleted 0 assets, 0 uploads, 0 job inputs (0 files).\n');
  });

  it('refuses unknown options with exit 64, and creates nothing where there is no database', async () => {
    const empty = await makeTempDir('atelier-cli-cleanup-');
    try {
      const missing = join(empty.dir, 'none');
      const [bad, nothing] = await Promise.all([
        runCli(['cleanup', '--force'], { env: { DATA_DIR: missing } }),
        runCli(['cleanup', '--dry-run'], { env: { DATA_DIR: missing } }),
      ]);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain('Usage: atelier cleanup [--dry-run]');
      expect(nothing.code, nothing.stderr).toBe(0);
      expect(nothing.stdout).toMatch(/nothing to clean up/);
      expect(existsSync(missing)).toBe(false);
    } finally {
      await empty.remove();
    }
  });
});
