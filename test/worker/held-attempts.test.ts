import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobsRepo } from '../../src/db/repos/jobs-repo.js';
import type { JobRow } from '../../src/db/schema.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { createHeldAttempts } from '../../src/remote-workers/held-attempts.js';
import type { Attempt } from '../../src/runner/attempt-pipeline.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';
import { addWorker, completionForm, injectWorker, REMOTE_IMAGE_MODEL, remoteConfig, successCallback, type Claimed } from './worker-helpers.js';

const attempt = (jobId: string, n: number, token: string): Attempt => ({
  job: { id: jobId } as JobRow,
  spec: {} as JobSpec,
  lease: { jobId, token, attempt: n, maxAttempts: 3, expiresAt: 0 },
});

describe('held attempts', () => {
  it('gives back only the attempt the lease token names, until it is forgotten', () => {
    const held = createHeldAttempts(10);
    const first = attempt('j1', 1, 'tok-a');
    held.remember(first);
    expect(held.find('j1', 1, 'tok-a')).toBe(first);
    expect(held.find('j1', 2, 'tok-a')).toBeUndefined();
    expect(held.find('j1', 1, 'tok-b')).toBeUndefined();
    expect(held.find('j2', 1, 'tok-a')).toBeUndefined();
    // The next attempt of the same job replaces it: the old token is no longer answered from memory.
    held.remember(attempt('j1', 2, 'tok-c'));
    expect(held.find('j1', 1, 'tok-a')).toBeUndefined();
    held.forget('j1');
    expect(held.find('j1', 2, 'tok-c')).toBeUndefined();
  });

  it('forgets the oldest beyond its bound', () => {
    const held = createHeldAttempts(2);
    for (const id of ['a', 'b', 'c']) held.remember(attempt(id, 1, `tok-${id}`));
    expect(held.find('a', 1, 'tok-a')).toBeUndefined();
    expect(held.find('b', 1, 'tok-b')).toBeDefined();
    expect(held.find('c', 1, 'tok-c')).toBeDefined();
  });
});

describe('a completion on the node that made the claim', () => {
  let t: InjectServer;
  let user: ApiClient;
  let worker: ReturnType<typeof injectWorker>;
  const reads = { jobs: 0 };
  let removeConfig: () => Promise<void>;

  beforeAll(async () => {
    const dir = await makeTempDir('atelier-held-attempts-');
    removeConfig = dir.remove;
    const configPath = await writeConfigFile(dir.dir, remoteConfig());
    // Counts every read of a job row by id, whoever makes it.
    const counting = (jobs: JobsRepo): JobsRepo => ({
      ...jobs,
      findById: (id) => {
        reads.jobs++;
        return jobs.findById(id);
      },
    });
    t = await startInjectServer({ ATELIER_CONFIG: configPath }, { wrap: { jobs: counting } });
    user = apiClient(t, t.adminToken);
    worker = injectWorker(t, await addWorker(t, 'held-box'));
  });
  afterAll(async () => {
    await t?.close();
    await removeConfig?.();
  });

  const png = () => sharp({ create: { width: 64, height: 64, channels: 3, background: '#446688' } }).png().toBuffer();
  const result = (claimed: Claimed) => ({ job_id: claimed.job_id, lease_token: claimed.lease_token, status: 'completed', error_message: null, metadata: {} });

  async function claim(): Promise<Claimed> {
    const run = await user.submit({ prompt: 'a lantern', model: REMOTE_IMAGE_MODEL, width: 64, height: 64, steps: 2, seed: 5 });
    const claimed = await worker.claimJob();
    expect(claimed.job_id).toBe(run.runId);
    return claimed;
  }

  it('commits from the attempt the claim began, without reading the job again', async () => {
    const claimed = await claim();
    const before = reads.jobs;
    const done = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', await png()]]));
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(reads.jobs - before).toBe(0);
    expect((await user.status(claimed.job_id)).body).toMatchObject({ status: 'succeeded', assets: [{ index: 0 }] });
  });

  it('takes a staged upload and its callback without reading the job either', async () => {
    const run = await user.submit({ prompt: 'a lantern', model: REMOTE_IMAGE_MODEL, width: 64, height: 64, steps: 2, seed: 6 });
    const claimed = await worker.claimJob({ wait_seconds: 10, upload_mode: 'direct' });
    expect(claimed.job_id).toBe(run.runId);
    const before = reads.jobs;
    const staged = await worker.upload(claimed.upload.urls[0]!, await png());
    expect(staged.status, staged.text).toBe(200);
    const done = await worker.complete(claimed.job_id, successCallback(claimed, [staged.body.url]));
    expect(done.status, done.text).toBe(200);
    expect(done.body.status).toBe('succeeded');
    expect(reads.jobs - before).toBe(0);
  });

  it('still refuses the attempt of a job canceled since the claim, adding nothing', async () => {
    const claimed = await claim();
    expect((await user.post(`/api/runs/${claimed.job_id}/cancel`)).body.status).toBe('canceled');
    const late = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', await png()]]));
    expect(late).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'canceled' } });
    expect((await user.status(claimed.job_id)).body).toMatchObject({ status: 'canceled', assets: [] });
  });
});
