import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobsRepo } from '../../src/db/repos/jobs-repo.js';
import { assetKeys } from '../../src/storage/keys.js';
import { apiClient, TERMINAL_STATUSES } from '../helpers/api.js';
import { killAllSpawned, runCli } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startServerOnDir, type TestServer } from '../helpers/test-server.js';

/**
 * A process stopped dead between storing a job's files and committing them (the crash the
 * SIGKILL test cannot aim at): the first server's attempt hangs forever at the commit, as a
 * killed process would, and a second server starts on the same data directory. Either the job
 * runs again and owns those files, or — canceled meanwhile — the retention sweep deletes them.
 */

interface Frozen {
  /** Resolves when the attempt has stored its files and reached the commit. */
  readonly reached: Promise<void>;
  /** Lets the frozen commit go on (at clean-up; a real crash never does). */
  release(): void;
}

function freezeAtCommit(jobs: JobsRepo): { jobs: JobsRepo; frozen: Frozen } {
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  let armed = true;
  return {
    frozen: { reached: reachedPromise, release },
    jobs: {
      ...jobs,
      async succeed(id, attempt, assets, now) {
        if (armed) {
          armed = false;
          reached();
          await released;
        }
        return jobs.succeed(id, attempt, assets, now);
      },
    },
  };
}

async function mediaKeys(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'media');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((key) => key.startsWith('workspace-temp/'))
    .sort();
}

function assetKeysOf(dataDir: string, jobId: string): string[] {
  const db = new Database(join(dataDir, 'atelier.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('select storage_key, thumbnail_key, variants from assets where job_id = ?').all(jobId) as { storage_key: string; thumbnail_key: string | null; variants: string }[];
    return rows.flatMap((row) => assetKeys(row)).sort();
  } finally {
    db.close();
  }
}

describe('a node stopped between storing files and committing them', () => {
  const open: { server: TestServer; frozen?: Frozen }[] = [];
  let tmp: { dir: string; remove: () => Promise<void> } | undefined;

  afterEach(async () => {
    for (const { server, frozen } of open.splice(0).reverse()) {
      frozen?.release();
      await server.close();
    }
    await killAllSpawned();
    await tmp?.remove();
  });

  async function firstServerFrozen(): Promise<{ dir: string; first: TestServer; frozen: Frozen; runId: string }> {
    tmp = await makeTempDir('atelier-frozen-');
    let frozen!: Frozen;
    const first = await startServerOnDir(tmp.dir, { LEASE_SECONDS: '120', MAX_ATTEMPTS: '3' }, {
      wrap: {
        jobs: (real) => {
          const made = freezeAtCommit(real);
          frozen = made.frozen;
          return made.jobs;
        },
      },
    });
    open.push({ server: first, frozen });
    const run = await apiClient(first, first.adminToken).submit({ prompt: 'frozen', width: 64, height: 64, steps: 2, num_images: 2 });
    await frozen.reached;
    return { dir: tmp.dir, first, frozen, runId: run.runId };
  }

  it('the restarted node runs the job again and its files end up owned, none twice', async () => {
    const { dir, runId } = await firstServerFrozen();
    // At the moment of the "crash": eight files on disk (two images × original, thumbnail,
    // two variants), no asset row.
    expect(await mediaKeys(dir)).toHaveLength(8);
    expect(assetKeysOf(dir, runId)).toEqual([]);

    const second = await startServerOnDir(dir, { LEASE_SECONDS: '120', MAX_ATTEMPTS: '3' });
    open.push({ server: second });
    const done = await apiClient(second, second.adminToken).waitFor(runId, (run) => (TERMINAL_STATUSES as readonly string[]).includes(run.status));
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done.assets).toHaveLength(2);
    const owned = assetKeysOf(dir, runId);
    expect(owned).toHaveLength(8);
    expect(await mediaKeys(dir)).toEqual(owned);
  });

  it('a job canceled meanwhile leaves its files to the retention sweep, which deletes them', async () => {
    const { dir, first, runId } = await firstServerFrozen();
    expect(await mediaKeys(dir)).toHaveLength(8);
    const canceled = await apiClient(first, first.adminToken).post(`/api/runs/${runId}/cancel`);
    expect(canceled.status, canceled.text).toBe(200);

    // The files are young: a sweep with the default grace keeps them.
    const kept = await runCli(['cleanup'], { env: { DATA_DIR: dir, LOG_LEVEL: 'silent' } });
    expect(kept.code, kept.stderr).toBe(0);
    expect(await mediaKeys(dir)).toHaveLength(8);

    const swept = await runCli(['cleanup'], { env: { DATA_DIR: dir, LOG_LEVEL: 'silent', RETENTION_ORPHAN_GRACE_HOURS: '0' } });
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stdout).toContain('8 orphaned files');
    expect(await mediaKeys(dir)).toEqual([]);
  });
});
