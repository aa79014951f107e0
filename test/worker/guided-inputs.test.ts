import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, download } from '../helpers/api.js';
import { uploadBytes, writeConfigFile } from '../helpers/server-extras.js';
import { scenePng, solidPng } from '../helpers/synthetic-images.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { addWorker, remoteConfig, REMOTE_IMAGE_MODEL, workerClient } from './worker-helpers.js';

/** A claim carries guidance and control images as signed URLs beside the reference. */
describe('remote workers: guided-generation inputs', () => {
  let t: TestServer;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const config = remoteConfig() as { backends: Record<string, Record<string, unknown>> };
    config.backends.gpu = { ...config.backends.gpu, controlnet: ['canny', 'depth'], guidanceImages: 2 };
    const dir = await makeTempDir('atelier-worker-guided-');
    cleanup = dir.remove;
    t = await startTestServer({ ATELIER_CONFIG: await writeConfigFile(dir.dir, config) });
  });
  afterAll(async () => {
    await t?.close();
    await cleanup?.();
  });

  it('hands out guidance and control images in claim.inputs, index-aligned with the spec', async () => {
    const user = apiClient(t, t.adminToken);
    const worker = workerClient(t, await addWorker(t, 'guided-gpu'));
    const guide = await solidPng(32, 32, [200, 30, 30]);
    const control = await scenePng(9, 96, 64);
    const [guideId, controlId] = [await uploadBytes(t, t.adminToken, guide), await uploadBytes(t, t.adminToken, control)];
    const res = await user.post('/api/generate/text-to-image', {
      model: REMOTE_IMAGE_MODEL,
      prompt: 'guided',
      steps: 4,
      seed: 2,
      guidance_images: [{ upload_id: guideId }],
      controlnet: [{ image: { upload_id: controlId }, type: 'depth', weight: 0.7 }],
    });
    expect(res.status, res.text).toBe(202);
    const claimed = (await worker.claimJob()) as any;
    expect(claimed.job_id).toBe(res.body.runId);
    expect(claimed.spec.controlnet).toEqual([expect.objectContaining({ type: 'depth', weight: 0.7, start: 0, end: 1 })]);
    expect(claimed.spec.guidanceImages).toHaveLength(1);
    expect(claimed.inputs.reference).toBeUndefined();
    expect((await download(claimed.inputs.guidance[0])).bytes.equals(guide)).toBe(true);
    expect((await download(claimed.inputs.controlnet[0])).bytes.equals(control)).toBe(true);

    const refused = await user.post('/api/generate/text-to-image', { model: REMOTE_IMAGE_MODEL, prompt: 'x', controlnet: [{ image: { upload_id: controlId }, type: 'pose' }] });
    expect(refused.body).toMatchObject({ code: 'conditioning_unsupported' });
    await worker.complete(claimed.job_id, { lease_token: claimed.lease_token, status: 'failed', error_message: 'not needed', retryable: false });
  });
});
