import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, GenerateContext, GeneratedOutput } from '../../src/backends/backend.js';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../src/errors/signals.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { createReferenceWorker, type ReferenceWorker } from '../../src/reference-worker/reference-worker.js';
import { expectSaneProgress, pixels, referencePng, until } from '../contract/backend-contract.js';
import { apiClient, collectEvents, download, type ApiClient } from '../helpers/api.js';
import { uploadBytes } from '../helpers/server-extras.js';
import type { TestServer } from '../helpers/test-server.js';
import { addWorker, REMOTE_IMAGE_MODEL, startRemoteServer } from './worker-helpers.js';

/**
 * The Backend contract's observable checks for the `remote` lane, end to end: a real server
 * whose model `sdxl-remote` runs on the remote backend `gpu`, and the reference worker (in
 * process) rendering with the builtin backend. Everything is submitted and read over HTTP.
 * The builtin has no server to fail, so the worker's backend is the builtin behind a script
 * of failures the test queues (`failNext`).
 */

type Override = (spec: JobSpec, ctx: GenerateContext, builtin: Backend) => Promise<GeneratedOutput[]>;

/** The builtin, plus a queue of one-job overrides and a record of how each call ended. */
function scriptedBuiltin() {
  const builtin = createBuiltinBackend();
  const overrides: Override[] = [];
  const calls: { spec: JobSpec; outcome?: 'resolved' | unknown; settledAt?: number }[] = [];
  const backend: Backend = {
    kind: builtin.kind,
    label: builtin.label,
    capabilities: builtin.capabilities,
    async generate(spec, ctx) {
      const call: (typeof calls)[number] = { spec };
      calls.push(call);
      try {
        const outputs = await (overrides.shift() ?? ((s, c, b) => b.generate(s, c)))(spec, ctx, builtin);
        call.outcome = 'resolved';
        return outputs;
      } catch (error) {
        call.outcome = error;
        throw error;
      } finally {
        call.settledAt = Date.now();
      }
    },
  };
  return { backend, calls, failNext: (override: Override) => void overrides.push(override) };
}

const throwing = (error: Error): Override => async () => {
  throw error;
};

describe('remote lane (HTTP + reference worker + builtin): the Backend contract end to end', () => {
  let t: TestServer;
  let user: ApiClient;
  let worker: ReferenceWorker;
  let working: Promise<void>;
  const scripted = scriptedBuiltin();
  const logs: string[] = [];

  const submit = (body: Record<string, unknown>) => user.submit({ prompt: 'a red lighthouse on a cliff at dusk', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 4, seed: 4242, ...body });
  const finished = (runId: string) => user.waitFor(runId, undefined, 15_000);
  /** Checks a succeeded run's assets like the contract checks outputs: count, index, seed, decodable PNG of the size. */
  const expectAssets = async (run: any, want: { count: number; width: number; height: number; seed: number }) => {
    expect(run.status, `${JSON.stringify(run.error)}\n${logs.slice(-5).join('\n')}`).toBe('succeeded');
    const assets = [...run.assets].sort((a: any, b: any) => a.index - b.index);
    expect(assets.map((a: any) => a.index)).toEqual(Array.from({ length: want.count }, (_, i) => i));
    const bytes: Buffer[] = [];
    for (const asset of assets) {
      expect(asset.metadata).toMatchObject({ width: want.width, height: want.height, seed: want.seed + asset.index, asset_index: asset.index });
      const file = await download(asset.url);
      expect(file.status).toBe(200);
      const raw = await sharp(file.bytes, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
      expect([raw.info.width, raw.info.height]).toEqual([want.width, want.height]);
      bytes.push(file.bytes);
    }
    return bytes;
  };

  beforeAll(async () => {
    t = await startRemoteServer({ LEASE_SECONDS: '1', BACKOFF_BASE_MS: '50', BACKOFF_MAX_MS: '200' });
    user = apiClient(t, t.adminToken);
    const token = await addWorker(t, 'contract-worker');
    worker = createReferenceWorker({ server: t.url, token, backend: scripted.backend, backends: ['gpu'], waitSeconds: 1, retry: { baseMs: 50, maxMs: 200 }, log: (line) => logs.push(line) });
    working = worker.run();
  });
  afterAll(async () => {
    await worker?.shutdown(1_000);
    await working;
    await t?.close();
  });

  it('t2i: the run succeeds with exactly num_images decodable PNGs of the size, each with its index and seed', async () => {
    const run = await finished((await submit({ num_images: 2 })).runId);
    await expectAssets(run, { count: 2, width: 96, height: 64, seed: 4242 });
    expect(scripted.calls.at(-1)?.spec).toMatchObject({ mode: 't2i', width: 96, height: 64, steps: 4, numImages: 2, seed: 4242 });
  });

  it('progress events are monotonic, within totalSteps, and reach it', async () => {
    const { runId } = await submit({ num_images: 2, steps: 5 });
    const events = await collectEvents(await user.openStream(runId), 15_000);
    const progress = events.filter((e) => e.event === 'progress').map((e) => JSON.parse(e.data) as { step: number; totalSteps: number });
    expectSaneProgress(progress);
    expect(progress.at(-1)).toMatchObject({ step: 10, totalSteps: 10 });
    expect(events.at(-1)?.event).toBe('succeeded');
  });

  it('capabilities: a mode, sampler, batch or size the lane does not declare is refused at submit with a stable code, and never reaches the worker', async () => {
    const before = scripted.calls.length;
    const refusals = [
      await user.post('/api/generate/text-to-video', { prompt: 'x', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 4 }),
      await user.post('/api/generate/text-to-image', { prompt: 'x', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 4, sampler: 'No Such Sampler 9000' }),
      await user.post('/api/generate/text-to-image', { prompt: 'x', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 4, num_images: 9 }),
      await user.post('/api/generate/text-to-image', { prompt: 'x', model: REMOTE_IMAGE_MODEL, width: 4096, height: 64, steps: 4 }),
    ];
    // The batch limit of `gpu` (8) is also the API's own, so the API's range check refuses it first.
    expect(refusals.map((res) => [res.status, res.body.code])).toEqual([
      [422, 'capability_unsupported'],
      [422, 'capability_unsupported'],
      [422, 'invalid_parameter'],
      [422, 'capability_unsupported'],
    ]);
    expect(scripted.calls.length).toBe(before);
  });

  it('cancel: canceling a running job stops the worker\'s backend promptly with a CanceledError, and the worker takes the next job', async () => {
    // About 2 s of rendering, so it is surely still running when the cancel lands.
    const { runId } = await submit({ num_images: 8, steps: 150, width: 1024, height: 1024 });
    await user.waitFor(runId, (run) => run.status === 'running' && (run.progress?.step ?? 0) > 0, 10_000);
    const call = scripted.calls.at(-1)!;
    const canceledAt = Date.now();
    const res = await user.post(`/api/runs/${runId}/cancel`);
    expect(res.status, res.text).toBe(200);
    expect((await finished(runId)).status).toBe('canceled');
    // The worker hears of it on its next heartbeat (a third of the 1 s lease).
    await until('the backend to stop', () => call.settledAt !== undefined, 5_000);
    expect(call.outcome, String(call.outcome)).toBeInstanceOf(CanceledError);
    expect(call.settledAt! - canceledAt).toBeLessThan(1_500);
    await until('the worker to drop the job', () => worker.stats.running === 0, 5_000);
    const next = await finished((await submit({ seed: 7 })).runId);
    await expectAssets(next, { count: 1, width: 96, height: 64, seed: 7 });
  });

  it('failure: an unrecoverable backend error fails the run at once with its code', async () => {
    scripted.failNext(throwing(new UnrecoverableError('The checkpoint refuses this prompt', 'backend_rejected')));
    const before = scripted.calls.length;
    const run = await finished((await submit({ seed: 11 })).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'backend_rejected', message: expect.stringContaining('refuses this prompt') });
    expect(scripted.calls.length - before).toBe(1);
  });

  it('failure: a retryable backend error is retried, and the retry succeeds', async () => {
    scripted.failNext(throwing(new RetryableError('CUDA out of memory', 'backend_failed')));
    const before = scripted.calls.length;
    const { runId } = await submit({ seed: 12, num_images: 2 });
    const events = await collectEvents(await user.openStream(runId), 15_000);
    expect(events.map((e) => e.event)).toContain('retrying');
    await expectAssets(await finished(runId), { count: 2, width: 96, height: 64, seed: 12 });
    expect(scripted.calls.length - before).toBe(2);
  });

  it('failure: a backend that returns the wrong outputs never completes the run with them', async () => {
    // One image for a batch of two: the worker must not upload a short batch as a success.
    scripted.failNext(async (spec, ctx, builtin) => (await builtin.generate({ ...spec, numImages: 1 }, ctx)).slice(0, 1));
    const before = scripted.calls.length;
    const run = await finished((await submit({ seed: 13, num_images: 2 })).runId);
    // The short batch is reported as a (retryable) failure; the retry renders the full batch.
    expect(scripted.calls.length - before).toBe(2);
    await expectAssets(run, { count: 2, width: 96, height: 64, seed: 13 });
  });

  it('determinism: the same request renders identical pixels on the lane', async () => {
    const [a, b] = [await finished((await submit({ seed: 99 })).runId), await finished((await submit({ seed: 99 })).runId)];
    const [pa] = await expectAssets(a, { count: 1, width: 96, height: 64, seed: 99 });
    const [pb] = await expectAssets(b, { count: 1, width: 96, height: 64, seed: 99 });
    expect((await pixels(pa!)).equals(await pixels(pb!))).toBe(true);
  });

  it('i2i: an image-to-image run with an uploaded reference returns num_images images of the size', async () => {
    const uploadId = await uploadBytes(t, t.adminToken, await referencePng());
    const res = await user.post('/api/generate/image-to-image', { prompt: 'the same, at night', model: REMOTE_IMAGE_MODEL, reference_image: { upload_id: uploadId }, width: 96, height: 64, steps: 4, seed: 31, num_images: 2, denoise_strength: 0.5 });
    expect(res.status, res.text).toBe(202);
    await expectAssets(await finished(res.body.runId), { count: 2, width: 96, height: 64, seed: 31 });
    expect(scripted.calls.at(-1)?.spec).toMatchObject({ mode: 'i2i', width: 96, height: 64 });
  });
});
