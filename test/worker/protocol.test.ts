import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import type { GeneratedVideo } from '../../src/backends/backend.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { apiClient, download, readResponse, type ApiClient } from '../helpers/api.js';
import { readServerSentEvents } from '../../src/cli/sse-client.js';
import { uploadBytes } from '../helpers/server-extras.js';
import { scenePng } from '../helpers/synthetic-images.js';
import type { TestServer } from '../helpers/test-server.js';
import { addWorker, REMOTE_IMAGE_MODEL, REMOTE_VIDEO_MODEL, sleep, startRemoteServer, successCallback, waitUntil, workerClient, type Claimed, type WorkerClient } from './worker-helpers.js';

async function pngOf(width: number, height: number, seed = 1): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: (seed * 53) % 255, g: 90, b: 160 } } }).png().toBuffer();
}

/** Uploads one PNG per asset (of the claimed size) and returns the staging keys. */
async function uploadAll(worker: WorkerClient, claimed: Claimed): Promise<string[]> {
  const keys: string[] = [];
  for (const [index, url] of claimed.upload.urls.entries()) {
    const res = await worker.upload(url, await pngOf(claimed.spec.width, claimed.spec.height, index + 1));
    expect(res.status, res.text).toBe(200);
    keys.push(res.body.url);
  }
  return keys;
}

describe('remote worker protocol', () => {
  let t: TestServer;
  let user: ApiClient;
  let worker: WorkerClient;
  let other: WorkerClient;

  beforeAll(async () => {
    t = await startRemoteServer({ LEASE_SECONDS: '1', BACKOFF_BASE_MS: '50', BACKOFF_MAX_MS: '200' });
    user = apiClient(t, t.adminToken);
    worker = workerClient(t, await addWorker(t, 'gpu-box-1'));
    other = workerClient(t, await addWorker(t, 'gpu-box-2'));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function submitRemote(body: Record<string, unknown> = {}): Promise<string> {
    const run = await user.submit({ prompt: 'a lighthouse at dusk', model: REMOTE_IMAGE_MODEL, width: 256, height: 192, steps: 8, seed: 42, ...body });
    return run.runId as string;
  }

  describe('tokens', () => {
    it('creates worker tokens for admins only, shown once, listed with last_seen_at', async () => {
      const created = await user.post('/api/admin/workers', { name: 'listed-worker' });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^atw_[A-Za-z0-9_-]{40,}$/);
      expect(await user.post('/api/admin/workers', { name: 'listed-worker' })).toMatchObject({ status: 422 });
      const plain = apiClient(t, (await t.addUser('not-an-admin')).token);
      expect((await plain.post('/api/admin/workers', { name: 'x' })).status).toBe(403);

      await workerClient(t, created.body.token).claim({ wait_seconds: 0 });
      const listed = await user.get('/api/admin/workers');
      const row = listed.body.workers.find((w: any) => w.name === 'listed-worker');
      expect(row).toMatchObject({ id: created.body.id, name: 'listed-worker' });
      expect(row.last_seen_at).not.toBeNull();
      expect(JSON.stringify(listed.body)).not.toContain(created.body.token);

      expect((await user.delete(`/api/admin/workers/listed-worker`)).status).toBe(204);
      expect((await workerClient(t, created.body.token).claim({})).status).toBe(401);
    });

    it('refuses user tokens on the worker API and worker tokens on the user API', async () => {
      const none = await readResponse(await fetch(`${t.url}/api/worker/claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
      expect(none).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
      const asUser = await workerClient(t, t.adminToken).claim({});
      expect(asUser).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect((await workerClient(t, 'atw_not-a-real-token-at-all-xxxxxxxxxxxxxx').claim({})).status).toBe(401);
      const asWorker = apiClient(t, worker.token);
      expect((await asWorker.get('/api/models')).status).toBe(401);
      expect((await asWorker.post('/api/admin/workers', { name: 'sneaky' })).status).toBe(401);
      expect((await asWorker.submit({ prompt: 'x' }).catch((e: Error) => e.message))).toMatch(/401/);
    });

    it('describes the worker and its remote backends', async () => {
      const res = await readResponse(await fetch(`${t.url}/api/worker/info`, { headers: { authorization: `Bearer ${worker.token}` } }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ worker: { name: 'gpu-box-1' }, lease_seconds: 1, upload_modes: ['direct', 'presigned'] });
      expect(res.body.backends).toEqual([expect.objectContaining({ name: 'gpu', label: 'Studio GPU (remote workers)', capabilities: expect.objectContaining({ modes: ['t2i', 'i2i', 't2v'] }) })]);
    });
  });

  describe('lanes', () => {
    it('never runs a remote job in-process, while local jobs still run', async () => {
      const remoteRun = await submitRemote();
      const local = await user.generate({ prompt: 'a local job', steps: 2, width: 64, height: 64 });
      expect(local.status).toBe('succeeded');
      // One runner, first in first out: had the remote job been in its lane, it would have been
      // claimed before the local job that was submitted after it.
      expect((await user.status(remoteRun)).body).toMatchObject({ status: 'queued', attempts: 0 });
      // Clean up: a worker takes it.
      const claimed = await worker.claimJob();
      expect(claimed.job_id).toBe(remoteRun);
      expect((await worker.complete(claimed.job_id, { lease_token: claimed.lease_token, status: 'failed', error_message: 'cleanup', retryable: false })).status).toBe(200);
    });

    it('answers 204 when nothing arrives within wait_seconds, and refuses unknown backends', async () => {
      const started = Date.now();
      const res = await worker.claim({ wait_seconds: 0.3 });
      expect(res.status).toBe(204);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(await worker.claim({ backends: ['builtin'] })).toMatchObject({ status: 422, body: { code: 'invalid_parameter', field: 'backends' } });
      expect((await worker.claim({ wait_seconds: 31 })).status).toBe(422);
    });

    it('does not hand a job to a long poll whose worker hung up', async () => {
      const hangUp = new AbortController();
      const abandoned = fetch(`${t.url}/api/worker/claim`, {
        method: 'POST',
        headers: { authorization: `Bearer ${worker.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ wait_seconds: 20 }),
        signal: hangUp.signal,
      }).catch(() => 'aborted');
      await sleep(200);
      hangUp.abort();
      expect(await abandoned).toBe('aborted');
      await sleep(100);
      const runId = await submitRemote();
      const claimed = await other.claimJob({ wait_seconds: 5 });
      expect(claimed).toMatchObject({ job_id: runId, attempt: 1 });
      await other.complete(runId, { lease_token: claimed.lease_token, status: 'failed', error_message: 'cleanup', retryable: false });
    });

    it('long-polls: a job submitted during the wait is handed out at once', async () => {
      const started = Date.now();
      const claiming = worker.claim({ wait_seconds: 20, backends: ['gpu'], worker_id: 'host-a/gpu0' });
      await sleep(200);
      const runId = await submitRemote();
      const res = await claiming;
      expect(res.status, res.text).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(res.body).toMatchObject({ job_id: runId, attempt: 1, max_attempts: 3, backend: 'gpu', model: REMOTE_IMAGE_MODEL, mode: 't2i', heartbeat_interval_seconds: expect.any(Number) });
      expect(res.body.spec).toMatchObject({ prompt: 'a lighthouse at dusk', width: 256, height: 192, steps: 8, seed: 42, numImages: 1 });
      const run = (await user.status(runId)).body;
      expect(run.status).toBe('running');
      expect((await worker.complete(runId, { lease_token: res.body.lease_token, status: 'failed', error_message: 'cleanup', retryable: false })).status).toBe(200);
    });
  });

  it('runs a job end to end: progress, preview over SSE, uploads, one set of post-processed assets', async () => {
    const runId = await submitRemote({ num_images: 2, negative_prompt: 'blurry' });
    const stream = await user.openStream(runId);
    const events: { event: string; data: any; id?: string }[] = [];
    const reading = (async () => {
      for await (const e of readServerSentEvents(stream.body!)) events.push({ event: e.event, data: JSON.parse(e.data), ...(e.id ? { id: e.id } : {}) });
    })();

    const claimed = await worker.claimJob();
    expect(claimed.job_id).toBe(runId);
    expect(claimed.upload).toMatchObject({ mode: 'direct', method: 'PUT', type: 'image', content_type: 'image/png', count: 2 });
    expect(claimed.upload.urls).toHaveLength(2);
    const preview = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const beat = await worker.heartbeat(runId, { lease_token: claimed.lease_token, progress: { step: 4, total_steps: 16 }, preview_b64: preview.toString('base64') });
    expect(beat.status, beat.text).toBe(200);
    expect(beat.body).toMatchObject({ continue: true, status: 'running' });
    expect(new Date(beat.body.lease_expires_at).getTime()).toBeGreaterThan(Date.now());
    expect((await user.status(runId)).body.progress).toMatchObject({ step: 4, totalSteps: 16 });
    expect((await worker.heartbeat(runId, { lease_token: claimed.lease_token, progress: { step: 17, total_steps: 16 } })).status).toBe(422);
    // Progress is kept in 32-bit integer columns: more is a 422 naming it (on PostgreSQL it was a 500).
    const huge = await worker.heartbeat(runId, { lease_token: claimed.lease_token, progress: { step: 99_999_999_999, total_steps: 99_999_999_999 } });
    expect(huge.status, huge.text).toBe(422);
    expect(huge.body).toMatchObject({ code: 'invalid_parameter', field: 'progress.step' });
    expect((await user.status(runId)).body.progress).toMatchObject({ step: 4, totalSteps: 16 });

    const keys = await uploadAll(worker, claimed);
    expect(keys).toEqual([`worker-uploads/${runId}/1/0.png`, `worker-uploads/${runId}/1/1.png`]);
    const done = await worker.complete(runId, successCallback(claimed, keys));
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ job_id: runId, status: 'succeeded', attempt: 1, error: null });
    expect(done.body.assets.map((a: any) => [a.index, a.url, a.thumbnail_url])).toEqual([
      [0, expect.stringMatching(new RegExp(`^workspace-temp/[^/]+/${runId}/0\\.png$`)), expect.stringMatching(/0\.thumb\.webp$/)],
      [1, expect.stringMatching(/1\.png$/), expect.stringMatching(/1\.thumb\.webp$/)],
    ]);

    // A repeated callback by the same lease is answered the same and adds nothing.
    const again = await worker.complete(runId, successCallback(claimed, keys));
    expect(again.status).toBe(200);
    expect(again.body.assets.map((a: any) => a.id)).toEqual(done.body.assets.map((a: any) => a.id));

    await reading;
    const run = (await user.status(runId)).body;
    expect(run.status).toBe('succeeded');
    expect(run.assets).toHaveLength(2);
    for (const asset of run.assets) {
      expect(asset.thumbnailUrl).toBeTruthy();
      expect(asset.variants.map((v: any) => v.name).sort()).toEqual(['high', 'normal']);
      expect(asset.metadata).toMatchObject({ width: 256, height: 192, format: 'png', steps: 8, seed: 42 + asset.index, asset_index: asset.index, negative_prompt_used: true });
      const original = await download(asset.url);
      expect(original.status).toBe(200);
      const meta = await sharp(original.bytes).metadata();
      expect(meta.comments?.find((c) => c.keyword === 'parameters')?.text).toContain('a lighthouse at dusk');
      const thumb = await download(asset.thumbnailUrl);
      expect((await sharp(thumb.bytes).metadata()).format).toBe('webp');
    }
    // The staged uploads are gone once the job is done.
    expect((await worker.complete(runId, successCallback(claimed, keys, { lease_token: '1.00000000-0000-0000-0000-000000000000' }))).status).toBe(409);

    const types = events.map((e) => e.event);
    expect(types).toEqual(expect.arrayContaining(['queued', 'running', 'progress', 'preview', 'succeeded']));
    const previewEvent = events.find((e) => e.event === 'preview')!;
    expect(previewEvent.id).toBeUndefined();
    expect(previewEvent.data).toMatchObject({ runId, mime: 'image/jpeg', step: 4, totalSteps: 16 });
    expect(previewEvent.data.image).toBe(`data:image/jpeg;base64,${preview.toString('base64')}`);
    // Previews are live only: a replay of the log has none.
    const replay = await user.openStream(runId, 0);
    const replayed: string[] = [];
    for await (const e of readServerSentEvents(replay.body!)) replayed.push(e.event);
    expect(replayed).not.toContain('preview');
    expect(replayed).toContain('succeeded');
  });

  it('validates uploads and callbacks, keeping the lease for a corrected callback', async () => {
    const runId = await submitRemote({ num_images: 2 });
    const claimed = await worker.claimJob();
    const alive = worker.keepAlive(claimed);
    try {
      const notPng = await worker.upload(claimed.upload.urls[0]!, Buffer.from('GIF89a this is not a png at all'));
      expect(notPng).toMatchObject({ status: 422, body: { code: 'invalid_image' } });
      const empty = await worker.upload(claimed.upload.urls[0]!, Buffer.alloc(0));
      expect(empty.status).toBe(422);
      const outOfRange = await worker.upload(claimed.upload.urls[0]!.replace('/assets/0', '/assets/2'), await pngOf(8, 8));
      expect(outOfRange).toMatchObject({ status: 422, body: { field: 'index' } });
      const noLease = await worker.upload(claimed.upload.urls[0]!.replace(/\?.*$/, ''), await pngOf(8, 8));
      expect(noLease).toMatchObject({ status: 422, body: { field: 'lease_token' } });
      const userToken = await worker.upload(claimed.upload.urls[0]!, await pngOf(8, 8), { authorization: `Bearer ${t.adminToken}` });
      expect(userToken.status).toBe(403);
      const badLease = await worker.upload(claimed.upload.urls[0]!.replace(/lease_token=[^&]+/, 'lease_token=1.ffffffff-0000-0000-0000-000000000000'), await pngOf(8, 8));
      expect(badLease).toMatchObject({ status: 409, body: { code: 'lease_lost' } });

      // Any content type, or none (Python requests sends none for raw bytes): the bytes decide.
      const untyped = await readResponse(await fetch(claimed.upload.urls[0]!, { method: 'PUT', headers: { authorization: `Bearer ${worker.token}` }, body: new Uint8Array(await pngOf(256, 192)) }));
      expect(untyped.status, untyped.text).toBe(200);
      const asJson = await worker.upload(claimed.upload.urls[0]!, await pngOf(256, 192), { authorization: `Bearer ${worker.token}`, 'content-type': 'application/json' });
      expect(asJson.status, asJson.text).toBe(200);
      const first = await worker.upload(claimed.upload.urls[0]!, await pngOf(256, 192));
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ index: 0, url: `worker-uploads/${runId}/1/0.png`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      // One asset short, a missing upload, a foreign key: 422, and the lease is kept.
      expect(await worker.complete(runId, successCallback(claimed, [first.body.url]))).toMatchObject({ status: 422, body: { field: 'assets' } });
      expect(await worker.complete(runId, successCallback(claimed, [first.body.url, `worker-uploads/${runId}/1/1.png`]))).toMatchObject({ status: 422, body: { field: 'assets' } });
      expect(await worker.complete(runId, successCallback(claimed, [first.body.url, 'workspace-temp/someone/else/0.png']))).toMatchObject({ status: 422, body: { field: 'assets[1].url' } });
      expect(await worker.complete(runId, { ...successCallback(claimed, [first.body.url, first.body.url]) })).toMatchObject({ status: 422 });
      expect(await worker.complete(runId, { ...successCallback(claimed, []), job_id: 'another-job' })).toMatchObject({ status: 422, body: { field: 'job_id' } });

      const second = await worker.upload(claimed.upload.urls[1]!, await pngOf(256, 192, 2));
      const done = await worker.complete(runId, successCallback(claimed, [first.body.url, second.body.url]));
      expect(done.status, done.text).toBe(200);
      expect(done.body.status).toBe('succeeded');
    } finally {
      alive.stop();
    }
  });

  it('offers presigned upload URLs that need no token and refuse tampering', async () => {
    const runId = await submitRemote();
    const claimed = await worker.claimJob({ wait_seconds: 10, upload_mode: 'presigned' });
    expect(claimed.job_id).toBe(runId);
    expect(claimed.upload.mode).toBe('presigned');
    const url = claimed.upload.urls[0]!;
    expect(url).toMatch(/\?attempt=1&expires=\d+&signature=/);
    expect(url).not.toContain('lease_token');
    const png = await pngOf(256, 192);
    const tampered = await worker.upload(url.replace('attempt=1', 'attempt=2'), png, {});
    expect(tampered).toMatchObject({ status: 403, body: { code: 'signature_invalid' } });
    const ok = await worker.upload(url, png, {});
    expect(ok.status, ok.text).toBe(200);
    const done = await worker.complete(runId, successCallback(claimed, [ok.body.url]));
    expect(done.body.status).toBe('succeeded');
  });

  it('hands out input images as signed URLs', async () => {
    const reference = await scenePng(3, 160, 120);
    const uploadId = await uploadBytes(t, t.adminToken, reference);
    const res = await user.post('/api/generate/image-to-image', { prompt: 'a painting', model: REMOTE_IMAGE_MODEL, reference_image: { upload_id: uploadId }, steps: 4, seed: 1 });
    expect(res.status, res.text).toBe(202);
    const claimed = await worker.claimJob();
    expect(claimed.job_id).toBe(res.body.runId);
    expect(claimed.spec).toMatchObject({ mode: 'i2i', denoiseStrength: 0.75 });
    const got = await download(claimed.inputs.reference!);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(reference)).toBe(true);
    await worker.complete(claimed.job_id, { lease_token: claimed.lease_token, status: 'failed', error_message: 'not needed', retryable: false });
  });

  it('refuses a stale lease: expiry re-queues, a new worker finishes, the old worker is refused and adds no assets', async () => {
    const runId = await submitRemote({ num_images: 2 });
    const stale = await worker.claimJob();
    const staleKeys = await uploadAll(worker, stale);
    // No heartbeats: the 1 s lease expires and the job goes back to the queue.
    const requeued = await user.waitFor(runId, (run) => run.status === 'queued' && run.attempts >= 1, 10_000);
    expect(requeued.error).toMatchObject({ code: 'lease_expired' });

    const fresh = await other.claimJob();
    expect(fresh).toMatchObject({ job_id: runId, attempt: 2 });
    expect(fresh.lease_token).not.toBe(stale.lease_token);
    const alive = other.keepAlive(fresh);
    try {
      expect(await worker.heartbeat(runId, { lease_token: stale.lease_token })).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'running' } });
      expect((await worker.upload(stale.upload.urls[0]!, await pngOf(256, 192))).status).toBe(409);
      const late = await worker.complete(runId, successCallback(stale, staleKeys));
      expect(late).toMatchObject({ status: 409, body: { code: 'lease_lost' } });
      // Nor can the old attempt's uploads be passed off as the new attempt's.
      expect(await other.complete(runId, successCallback(fresh, staleKeys))).toMatchObject({ status: 422 });

      const freshKeys = await uploadAll(other, fresh);
      expect(freshKeys[0]).toBe(`worker-uploads/${runId}/2/0.png`);
      const done = await other.complete(runId, successCallback(fresh, freshKeys));
      expect(done.body).toMatchObject({ status: 'succeeded', attempt: 2 });
    } finally {
      alive.stop();
    }
    const lateAgain = await worker.complete(runId, successCallback(stale, staleKeys));
    expect(lateAgain).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'succeeded' } });
    const failedLate = await worker.complete(runId, { lease_token: stale.lease_token, status: 'failed', error_message: 'late' });
    expect(failedLate.status).toBe(409);
    const run = (await user.status(runId)).body;
    expect(run).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(run.assets).toHaveLength(2);
    expect(new Set(run.assets.map((a: any) => a.index))).toEqual(new Set([0, 1]));
  });

  it('tells the worker to stop when the job is canceled', async () => {
    const runId = await submitRemote();
    const claimed = await worker.claimJob();
    expect((await worker.heartbeat(runId, { lease_token: claimed.lease_token })).body.continue).toBe(true);
    expect((await user.post(`/api/runs/${runId}/cancel`)).body.status).toBe('canceled');
    expect(await worker.heartbeat(runId, { lease_token: claimed.lease_token })).toMatchObject({ status: 200, body: { continue: false, status: 'canceled' } });
    const keys = await Promise.all(claimed.upload.urls.map(async (url) => (await worker.upload(url, await pngOf(256, 192))).status));
    expect(keys).toEqual([409]);
    const late = await worker.complete(runId, successCallback(claimed, [`worker-uploads/${runId}/1/0.png`]));
    expect(late).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'canceled' } });
    expect((await user.status(runId)).body).toMatchObject({ status: 'canceled', assets: [] });
  });

  it('records failures: retried when retryable, failed for good otherwise', async () => {
    const runId = await submitRemote();
    const first = await worker.claimJob();
    const retried = await worker.complete(runId, { job_id: runId, lease_token: first.lease_token, status: 'failed', assets: [], error_message: 'CUDA out of memory', metadata: {} });
    expect(retried.body).toMatchObject({ status: 'retrying', attempt: 1, error: { code: 'backend_failed', message: 'CUDA out of memory' }, retry_at: expect.any(String) });
    expect((await user.status(runId)).body).toMatchObject({ status: 'queued', error: { code: 'backend_failed' } });

    const second = await worker.claimJob();
    expect(second).toMatchObject({ job_id: runId, attempt: 2 });
    const failed = await worker.complete(runId, { lease_token: second.lease_token, status: 'failed', error_code: 'capability_unsupported', error_message: 'This worker has no such sampler' });
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'capability_unsupported' } });
    expect((await user.status(runId)).body).toMatchObject({ status: 'failed', error: { code: 'capability_unsupported', message: 'This worker has no such sampler' } });
  });

  it('turns an undecodable upload into a failed attempt', async () => {
    const runId = await submitRemote();
    const claimed = await worker.claimJob();
    const broken = Buffer.concat([(await pngOf(256, 192)).subarray(0, 40), Buffer.alloc(64, 7)]);
    const upload = await worker.upload(claimed.upload.urls[0]!, broken);
    expect(upload.status).toBe(200);
    const done = await worker.complete(runId, successCallback(claimed, [upload.body.url]));
    expect(done.status, done.text).toBe(200);
    // Output that does not decode is the backend's failure: another attempt may do better.
    expect(done.body).toMatchObject({ status: 'retrying', assets: [], error: { code: 'backend_failed' } });
    const next = await worker.claimJob();
    await worker.complete(runId, { lease_token: next.lease_token, status: 'failed', error_message: 'cleanup', retryable: false });
  });

  it('takes a video: one MP4, probed, with a mid-frame thumbnail', async () => {
    const res = await user.post('/api/generate/text-to-video', { prompt: 'waves at night', model: REMOTE_VIDEO_MODEL, width: 160, height: 96, num_frames: 8, fps: 8, steps: 2, seed: 3 });
    expect(res.status, res.text).toBe(202);
    const claimed = await worker.claimJob();
    expect(claimed.upload).toMatchObject({ type: 'video', content_type: 'video/mp4', count: 1 });
    const workDir = await mkdtemp(join(tmpdir(), 'atelier-worker-video-'));
    try {
      const [video] = (await createBuiltinBackend().generate(claimed.spec as JobSpec, { signal: new AbortController().signal, onProgress: () => {}, workDir })) as GeneratedVideo[];
      const bytes = await readFile(video!.file);
      expect((await worker.upload(claimed.upload.urls[0]!, await pngOf(160, 96))).status).toBe(422);
      const up = await worker.upload(claimed.upload.urls[0]!, bytes);
      expect(up.status, up.text).toBe(200);
      expect(up.body.url).toBe(`worker-uploads/${claimed.job_id}/1/0.mp4`);
      const done = await worker.complete(claimed.job_id, successCallback(claimed, [up.body.url]));
      expect(done.status, done.text).toBe(200);
      expect(done.body.assets[0]).toMatchObject({ type: 'video', url: expect.stringMatching(/0\.mp4$/), thumbnail_url: expect.stringMatching(/0\.thumb\.webp$/), metadata: { format: 'mp4', fps: 8, frame_count: 8, width: 160, height: 96 } });
      const run = (await user.status(claimed.job_id)).body;
      expect(run.status).toBe('succeeded');
      const file = await download(run.assets[0].url);
      expect(file.bytes.equals(bytes)).toBe(true);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
