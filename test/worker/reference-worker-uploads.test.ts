import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import { createReferenceWorker, type ReferenceWorkerOptions } from '../../src/reference-worker/reference-worker.js';
import { createWorkerClient, type WorkerClient } from '../../src/reference-worker/worker-client.js';
import { apiClient, download, type ApiClient } from '../helpers/api.js';
import type { TestServer } from '../helpers/test-server.js';
import { addWorker, REMOTE_IMAGE_MODEL, REMOTE_VIDEO_MODEL, stagedKeys, startRemoteServer } from './worker-helpers.js';

/** The reference worker's client, counting the calls that carry outputs: staged PUTs, JSON callbacks, multipart callbacks. */
function countingClient(server: string, token: string) {
  const client = createWorkerClient(server, token);
  const calls = { upload: 0, complete: 0, completeWithParts: 0, files: [] as string[] };
  const counted: WorkerClient = {
    ...client,
    upload: (...args) => (calls.upload++, client.upload(...args)),
    complete: (...args) => (calls.complete++, client.complete(...args)),
    completeWithParts: (jobId, body, parts) => {
      calls.completeWithParts++;
      calls.files.push(...parts.map((p) => (p.path ? `file:${p.name}` : `memory:${p.name}`)));
      return client.completeWithParts(jobId, body, parts);
    },
  };
  return { client: counted, calls };
}

/**
 * How the reference worker sends its outputs: in the completion callback (multipart, the
 * default: images from memory, a video streamed from its file), or staged by PUTs first when
 * asked (`direct`, `presigned`).
 */
describe('reference worker: how outputs reach the server', () => {
  let t: TestServer;
  let user: ApiClient;
  let token: string;

  beforeAll(async () => {
    t = await startRemoteServer({ LEASE_SECONDS: '2' });
    user = apiClient(t, t.adminToken);
    token = await addWorker(t, 'modes-worker');
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs one job with a fresh in-process worker in `uploadMode`; returns the finished run and the calls made. */
  async function runOne(uploadMode: ReferenceWorkerOptions['uploadMode'], submit: () => Promise<string>) {
    const { client, calls } = countingClient(t.url, token);
    const logs: string[] = [];
    const worker = createReferenceWorker({ server: t.url, token, backend: createBuiltinBackend(), client, waitSeconds: 1, retry: { baseMs: 50, maxMs: 200 }, log: (line) => logs.push(line), ...(uploadMode ? { uploadMode } : {}) });
    const working = worker.run();
    try {
      const runId = await submit();
      const run = await user.waitFor(runId, undefined, 20_000);
      expect(run.status, `${JSON.stringify(run.error)}\n${logs.join('\n')}`).toBe('succeeded');
      return { run, calls };
    } finally {
      await worker.shutdown(1_000);
      await working;
    }
  }

  const imageJob = async () => (await user.submit({ prompt: 'a quiet pier', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 3, seed: 8, num_images: 2 })).runId as string;

  it('sends images inside the completion by default: one request, nothing staged', async () => {
    const { run, calls } = await runOne(undefined, imageJob);
    expect(calls).toMatchObject({ upload: 0, complete: 0, completeWithParts: 1, files: ['memory:asset_0', 'memory:asset_1'] });
    expect(run.assets.map((a: any) => [a.index, a.metadata.seed])).toEqual([
      [0, 8],
      [1, 9],
    ]);
    for (const asset of run.assets) expect((await sharp((await download(asset.url)).bytes).metadata()).width).toBe(96);
    expect(await stagedKeys(t, run.runId)).toEqual([]);
  });

  it('streams a video from its file inside the completion', async () => {
    const { run, calls } = await runOne(undefined, async () => {
      const res = await user.post('/api/generate/text-to-video', { prompt: 'rain on a window', model: REMOTE_VIDEO_MODEL, width: 160, height: 96, num_frames: 8, fps: 8, steps: 2, seed: 3 });
      expect(res.status, res.text).toBe(202);
      return res.body.runId as string;
    });
    expect(calls).toMatchObject({ upload: 0, complete: 0, completeWithParts: 1, files: ['file:asset_0'] });
    expect(run.assets[0]).toMatchObject({ type: 'video', metadata: { format: 'mp4', frame_count: 8 } });
  });

  for (const mode of ['direct', 'presigned'] as const) {
    it(`stages the outputs with PUTs first when asked (${mode})`, async () => {
      const { run, calls } = await runOne(mode, imageJob);
      expect(calls).toMatchObject({ upload: 2, complete: 1, completeWithParts: 0 });
      expect(run.assets).toHaveLength(2);
    });
  }
});
