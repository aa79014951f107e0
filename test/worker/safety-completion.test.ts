import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api.js';
import { startSafetyChecker } from '../helpers/safety-checker.js';
import type { InjectServer } from '../helpers/test-server.js';
import { addWorker, completionForm, injectWorker, REMOTE_IMAGE_MODEL, startRemoteInjectServer } from './worker-helpers.js';

// A remote worker's outputs go through the same commit as the in-process runner's, so the
// safety scan applies to them in the same place (storeOutputs). The stand-in checker flags all.
describe("the safety scan of a remote worker's outputs", () => {
  let checker: Awaited<ReturnType<typeof startSafetyChecker>>;
  beforeAll(async () => {
    checker = await startSafetyChecker();
  });
  afterAll(() => checker.close());

  async function completeOne(t: InjectServer) {
    const user = apiClient(t, t.adminToken);
    const worker = injectWorker(t, await addWorker(t, 'gpu-box'));
    const run = await user.submit({ prompt: 'a lighthouse at dusk', model: REMOTE_IMAGE_MODEL, width: 256, height: 192, steps: 8, seed: 42 });
    const claimed = await worker.claimJob();
    const png = await sharp({ create: { width: 256, height: 192, channels: 3, background: '#3366aa' } }).png().toBuffer();
    const before = checker.seen.length;
    const completion = await worker.completeForm(
      claimed.job_id,
      completionForm({ job_id: claimed.job_id, lease_token: claimed.lease_token, status: 'completed', assets: [{ type: 'image', metadata: { asset_index: 0, seed: 42 } }] }, [['asset_0', png]]),
    );
    return { user, run, completion, scans: checker.seen.length - before };
  }

  it('flag: the asset carries the verdict', async () => {
    const t = await startRemoteInjectServer({ SAFETY_POLICY: 'flag', SAFETY_URL: `${checker.origin}/flag` });
    try {
      const { user, run, completion, scans } = await completeOne(t);
      expect(completion.status, completion.text).toBe(200);
      expect(scans).toBe(1);
      const done = await user.waitFor(run.runId);
      expect(done.status).toBe('succeeded');
      expect(done.assets[0].metadata.safety).toMatchObject({ flagged: true, scores: { porn: 0.9 } });
    } finally {
      await t.close();
    }
  });

  it('block: the run fails with output_refused and keeps no asset', async () => {
    const t = await startRemoteInjectServer({ SAFETY_POLICY: 'block', SAFETY_URL: `${checker.origin}/flag` });
    try {
      const { user, run } = await completeOne(t);
      const done = await user.waitFor(run.runId);
      expect([done.status, done.error?.code, done.assets]).toEqual(['failed', 'output_refused', []]);
    } finally {
      await t.close();
    }
  });
});
