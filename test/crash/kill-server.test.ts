import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';
import { killAllSpawned, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { isTerminal, runStatus, type RunStatus } from '../helpers/spawned-runs.js';

/**
 * The crash test: SIGKILL a server in the middle of a render, start a new process on the
 * same data directory, and check that every accepted job finishes exactly once — right
 * number of assets, every file present and decodable, no orphaned files, the interrupted
 * job retried.
 */

const JOBS = 12;
const WIDTH = 768;
const HEIGHT = 768;
const STEPS = 40;
const NUM_IMAGES = 2;

const ENV = {
  LEASE_SECONDS: '1',
  BACKOFF_BASE_MS: '200',
  RUNNER_CONCURRENCY: '1',
  MAX_ATTEMPTS: '5',
  LOG_LEVEL: 'warn',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out;
}

describe('SIGKILL during a render, then restart on the same data directory', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let first: SpawnedServer;
  let second: SpawnedServer;
  let token: string;
  const runIds: string[] = [];
  let runningAtKill: { id: string; attempts: number }[] = [];
  let finals: RunStatus[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-crash-');
  });

  afterAll(async () => {
    await killAllSpawned();
    await tmp?.remove();
  });

  it('finishes every accepted job exactly once after the crash', { timeout: 90_000 }, async () => {
    first = await spawnServer({ env: { ...ENV, DATA_DIR: tmp.dir } });
    expect(first.token).toMatch(/^atl_/);
    token = first.token!;

    for (let i = 0; i < JOBS; i++) {
      const response = await fetch(`${first.url}/api/generate/text-to-image`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `a lighthouse on a cliff, variant ${i}`, width: WIDTH, height: HEIGHT, steps: STEPS, num_images: NUM_IMAGES, seed: 1000 + i * 10 }),
      });
      expect(response.status).toBe(202);
      runIds.push(((await response.json()) as RunStatus).runId);
    }

    // Wait for one success and one render well under way (first half of its steps), so the
    // kill lands mid-render rather than between jobs.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const statuses = await Promise.all(runIds.map((id) => runStatus(first, token, id)));
      const succeeded = statuses.filter((s) => s.status === 'succeeded').length;
      const midRender = statuses.find((s) => s.status === 'running' && s.progress.step >= 1 && s.progress.step < s.progress.totalSteps / 2);
      if (succeeded >= 1 && midRender) break;
      if (statuses.every((s) => isTerminal(s.status))) throw new Error('every job finished before the kill could happen');
      if (Date.now() > deadline) throw new Error(`no job was observed mid-render: ${JSON.stringify(statuses.map((s) => [s.status, s.progress.step]))}`);
      await sleep(5);
    }
    const exit = await first.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');

    // What the dead process left behind: exactly one job recorded as running.
    {
      const db = new Database(join(tmp.dir, 'atelier.db'), { readonly: true, fileMustExist: true });
      try {
        runningAtKill = db.prepare(`select id, attempts from jobs where status = 'running'`).all() as { id: string; attempts: number }[];
        const notTerminal = db.prepare(`select count(*) as n from jobs where status in ('queued', 'running')`).get() as { n: number };
        expect(notTerminal.n).toBeGreaterThan(1);
      } finally {
        db.close();
      }
    }
    expect(runningAtKill).toHaveLength(1);
    expect(runningAtKill[0]!.attempts).toBe(1);

    second = await spawnServer({ env: { ...ENV, DATA_DIR: tmp.dir } });
    // The generated admin token is kept in the data directory and printed again.
    expect(second.token).toBe(token);
    expect(second.stdout()).toContain(`?token=${token}`);
    expect((await readFile(join(tmp.dir, 'admin-token'), 'utf8')).trim()).toBe(token);

    const waitUntil = Date.now() + 60_000;
    for (;;) {
      finals = await Promise.all(runIds.map((id) => runStatus(second, token, id)));
      if (finals.every((s) => isTerminal(s.status))) break;
      if (Date.now() > waitUntil) {
        throw new Error(`jobs still unfinished after restart: ${JSON.stringify(finals.map((s) => [s.runId, s.status, s.attempts]))}\n${second.stderr()}`);
      }
      await sleep(250);
    }

    expect(finals.map((s) => s.status)).toEqual(runIds.map(() => 'succeeded'));
    for (const run of finals) expect(run.assets).toHaveLength(NUM_IMAGES);

    // The interrupted job was retried after its lease expired.
    const interrupted = finals.find((s) => s.runId === runningAtKill[0]!.id)!;
    expect(interrupted.attempts).toBeGreaterThanOrEqual(2);
  });

  it('recorded exactly num_images assets per job and the interrupted job\'s extra attempt', () => {
    expect(finals).toHaveLength(JOBS);
    const db = new Database(join(tmp.dir, 'atelier.db'), { readonly: true, fileMustExist: true });
    try {
      const jobs = db.prepare('select id, status, attempts, num_images from jobs').all() as { id: string; status: string; attempts: number; num_images: number }[];
      expect(jobs.map((j) => j.id).sort()).toEqual([...runIds].sort());
      for (const job of jobs) {
        expect(job.status).toBe('succeeded');
        const indexes = (db.prepare('select asset_index from assets where job_id = ? order by asset_index').all(job.id) as { asset_index: number }[]).map((r) => r.asset_index);
        expect(indexes, `assets of job ${job.id}`).toEqual([...Array(job.num_images).keys()]);
        expect(job.num_images).toBe(NUM_IMAGES);
      }
      const grouped = db.prepare('select job_id, count(*) as n, count(distinct asset_index) as d from assets group by job_id').all() as { job_id: string; n: number; d: number }[];
      expect(grouped).toHaveLength(JOBS);
      for (const g of grouped) expect([g.n, g.d]).toEqual([NUM_IMAGES, NUM_IMAGES]);

      const interrupted = jobs.find((j) => j.id === runningAtKill[0]!.id)!;
      expect(interrupted.attempts).toBeGreaterThanOrEqual(2);
      const events = (db.prepare('select type from job_events where job_id = ? order by seq').all(interrupted.id) as { type: string }[]).map((e) => e.type);
      expect(events).toContain('retrying');
      expect(events.at(-1)).toBe('succeeded');
      expect(events.filter((t) => t === 'succeeded')).toHaveLength(1);
      // Nothing is left in the queue once every job is finished.
      expect((db.prepare('select count(*) as n from queue_entries').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  });

  it('keeps every referenced file decodable and no unreferenced file in media/', { timeout: 30_000 }, async () => {
    expect(finals).toHaveLength(JOBS);
    const mediaRoot = join(tmp.dir, 'media');
    const db = new Database(join(tmp.dir, 'atelier.db'), { readonly: true, fileMustExist: true });
    let assets: { storage_key: string; thumbnail_key: string | null; variants: string }[];
    try {
      assets = db.prepare('select storage_key, thumbnail_key, variants from assets').all() as typeof assets;
    } finally {
      db.close();
    }
    expect(assets).toHaveLength(JOBS * NUM_IMAGES);

    const referenced = new Set<string>();
    for (const asset of assets) {
      expect(asset.thumbnail_key).not.toBeNull();
      referenced.add(asset.storage_key);
      referenced.add(asset.thumbnail_key!);
      // Delivery variants (normal JPEG, high WebP) are files of the asset too.
      const variants = JSON.parse(asset.variants) as { key: string; format: string }[];
      expect(variants.map((v) => v.format)).toEqual(['jpeg', 'webp']);
      for (const variant of variants) {
        referenced.add(variant.key);
        expect((await sharp(await readFile(join(mediaRoot, ...variant.key.split('/')))).metadata()).format).toBe(variant.format);
      }

      const png = await readFile(join(mediaRoot, ...asset.storage_key.split('/')));
      const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect([decoded.info.width, decoded.info.height]).toEqual([WIDTH, HEIGHT]);
      expect((await sharp(png).metadata()).format).toBe('png');

      const thumb = await readFile(join(mediaRoot, ...asset.thumbnail_key!.split('/')));
      const thumbMeta = await sharp(thumb).metadata();
      expect(thumbMeta.format).toBe('webp');
      const thumbDecoded = await sharp(thumb).raw().toBuffer({ resolveWithObject: true });
      expect(Math.max(thumbDecoded.info.width, thumbDecoded.info.height)).toBeLessThanOrEqual(256);
    }
    expect(referenced.size).toBe(JOBS * NUM_IMAGES * 4);

    const onDisk = (await listFiles(mediaRoot))
      .map((file) => relative(mediaRoot, file).split(sep).join('/'))
      .filter((key) => !key.startsWith('.tmp/'));
    // Every file outside .tmp/ is a workspace file some asset row references, and vice versa.
    expect(onDisk.filter((key) => !key.startsWith('workspace-temp/'))).toEqual([]);
    expect(new Set(onDisk)).toEqual(referenced);
  });
});
