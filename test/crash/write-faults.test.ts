import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobsRepo } from '../../src/db/repos/jobs-repo.js';
import { assetKeys } from '../../src/storage/keys.js';
import type { Storage } from '../../src/storage/storage.js';
import { specInputImages } from '../../src/jobs/conditioning.js';
import { apiClient, readResponse, TERMINAL_STATUSES, type ApiClient } from '../helpers/api.js';
import { S3RVER_CREDENTIALS, startS3TestServer, type S3TestServer } from '../helpers/s3-test-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Writes in order, nothing orphaned: a failure injected at each write of a submission (the
 * input copies, the insert) and of a completion (every put, the commit, just after it) leaves
 * neither a file that no row owns nor a row pointing at a missing file — on disk and on S3.
 */

type Step = { op: 'put' | 'copy'; key: string } | { op: 'insert' | 'succeed' | 'succeeded' };

/** Fails the n-th step that matches, once. */
class FaultPlan {
  private matches = 0;
  private rule: { match: (step: Step) => boolean; nth: number } | undefined;

  failOn(match: (step: Step) => boolean, nth = 1): void {
    this.rule = { match, nth };
    this.matches = 0;
  }

  clear(): void {
    this.rule = undefined;
  }

  check(step: Step): void {
    if (!this.rule || !this.rule.match(step)) return;
    this.matches += 1;
    if (this.matches === this.rule.nth) {
      this.rule = undefined;
      throw new Error(`injected fault at ${step.op}${'key' in step ? ` ${step.key}` : ''}`);
    }
  }
}

function faultyStorage(storage: Storage, plan: FaultPlan): Storage {
  return {
    ...storage,
    async put(key, body, options) {
      plan.check({ op: 'put', key });
      return storage.put(key, body, options);
    },
    async copy(from, to) {
      plan.check({ op: 'copy', key: to });
      return storage.copy(from, to);
    },
  };
}

function faultyJobs(jobs: JobsRepo, plan: FaultPlan): JobsRepo {
  return {
    ...jobs,
    async insert(row, guard) {
      plan.check({ op: 'insert' });
      return jobs.insert(row, guard);
    },
    async succeed(id, attempt, assets, now) {
      plan.check({ op: 'succeed' });
      const done = await jobs.succeed(id, attempt, assets, now);
      plan.check({ op: 'succeeded' });
      return done;
    },
  };
}

async function listAll(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(prefix)) keys.push(object.key);
  return keys.sort();
}

const modes: { name: string; env: () => Promise<{ env: Record<string, string>; close: () => Promise<void> }> }[] = [
  { name: 'disk', env: async () => ({ env: {}, close: async () => {} }) },
  {
    name: 'S3',
    env: async () => {
      const s3: S3TestServer = await startS3TestServer(['atelier-faults']);
      return {
        env: {
          STORAGE_URL: 's3://atelier-faults/t',
          S3_ENDPOINT: s3.endpoint,
          S3_FORCE_PATH_STYLE: 'true',
          S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        },
        close: () => s3.close(),
      };
    },
  },
];

describe.each(modes)('a failure at any write leaves nothing orphaned: $name', ({ env: makeEnv }) => {
  const plan = new FaultPlan();
  let storage: Storage;
  let t: TestServer;
  let client: ApiClient;
  let closeStorage = async () => {};
  let uploads: string[] = [];

  beforeAll(async () => {
    const mode = await makeEnv();
    closeStorage = mode.close;
    t = await startTestServer(
      { ...mode.env, MAX_ATTEMPTS: '1' },
      {
        wrap: {
          storage: (real) => {
            storage = real;
            return faultyStorage(real, plan);
          },
          jobs: (real) => faultyJobs(real, plan),
        },
      },
    );
    client = apiClient(t, t.adminToken);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366aa' } }).png().toBuffer();
    for (let i = 0; i < 2; i++) {
      const form = new FormData();
      form.append('file', new Blob([png]), `ref-${i}.png`);
      const res = await readResponse(await fetch(`${t.url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` }, body: form }));
      expect(res.status).toBe(201);
      uploads.push(res.body.uploadId);
    }
  });

  afterAll(async () => {
    await t?.close();
    await closeStorage();
  });

  /** Every file a row names exists, and every job file is named by a row. */
  async function expectNothingOrphaned(): Promise<void> {
    const db = new Database(join(t.dataDir, 'atelier.db'), { readonly: true, fileMustExist: true });
    let owned: Set<string>;
    try {
      const assets = db.prepare('select storage_key, thumbnail_key, variants from assets').all() as { storage_key: string; thumbnail_key: string | null; variants: string }[];
      const specs = db.prepare('select spec from jobs').all() as { spec: string }[];
      owned = new Set([...assets.flatMap((a) => assetKeys(a)), ...specs.flatMap((j) => specInputImages(JSON.parse(j.spec)).map((image) => image.key))]);
    } finally {
      db.close();
    }
    for (const key of owned) {
      if (key.startsWith('uploads/')) continue;
      expect(await storage.stat(key), `a row names ${key}, which is missing`).toBeDefined();
    }
    const files = [...(await listAll(storage, 'workspace-temp/')), ...(await listAll(storage, 'job-inputs/'))];
    expect(files.filter((key) => !owned.has(key)), 'files no row owns').toEqual([]);
  }

  async function runToEnd(body: Record<string, unknown>, path = '/api/generate/text-to-image'): Promise<any> {
    const res = await client.request('POST', path, body);
    if (res.status !== 202) return res;
    return client.waitFor(res.body.runId, (run) => (TERMINAL_STATUSES as readonly string[]).includes(run.status));
  }

  it('submission: a failed input copy or insert removes the copies already made', async () => {
    const i2i = { prompt: 'guided', width: 64, height: 64, steps: 2, reference_image: { upload_id: uploads[0] }, denoise_strength: 0.5, guidance_images: [{ upload_id: uploads[1] }] };
    const before = await listAll(storage, 'job-inputs/');
    // The second copy (guidance) fails after the first (reference) was written.
    plan.failOn((step) => step.op === 'copy' && step.key.startsWith('job-inputs/'), 2);
    const copyFailed = await client.request('POST', '/api/generate/image-to-image', i2i);
    expect(copyFailed.status).toBeGreaterThanOrEqual(500);
    expect(copyFailed.body.code).toBeTypeOf('string');
    expect(await listAll(storage, 'job-inputs/')).toEqual(before);

    // Both copies made, then the insert fails.
    plan.failOn((step) => step.op === 'insert');
    const insertFailed = await client.request('POST', '/api/generate/image-to-image', i2i);
    expect(insertFailed.status).toBeGreaterThanOrEqual(500);
    expect(await listAll(storage, 'job-inputs/')).toEqual(before);

    // Without a fault the same request is accepted and holds its two copies.
    plan.clear();
    const done = await runToEnd(i2i, '/api/generate/image-to-image');
    expect(done.status).toBe('succeeded');
    expect((await listAll(storage, 'job-inputs/')).length).toBe(before.length + 2);
    await expectNothingOrphaned();
  });

  it('completion: a failure at each put, before the commit and after it', { timeout: 60_000 }, async () => {
    const request = { prompt: 'faults', width: 64, height: 64, steps: 2, num_images: 2 };
    // Two images × (original, thumbnail, two variants).
    for (let nth = 1; nth <= 8; nth++) {
      plan.failOn((step) => step.op === 'put' && step.key.startsWith('workspace-temp/'), nth);
      const run = await runToEnd(request);
      expect(run.status, `fault at put ${nth}`).toBe('failed');
      expect(run.assets).toEqual([]);
      await expectNothingOrphaned();
    }

    plan.failOn((step) => step.op === 'succeed');
    const beforeCommit = await runToEnd(request);
    expect(beforeCommit.status).toBe('failed');
    await expectNothingOrphaned();

    // The commit happened: the run stands with every file.
    plan.failOn((step) => step.op === 'succeeded');
    const afterCommit = await runToEnd(request);
    expect(afterCommit.status).toBe('succeeded');
    expect(afterCommit.assets).toHaveLength(2);
    await expectNothingOrphaned();
  });
});
