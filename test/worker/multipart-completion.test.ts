import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeneratedVideo } from '../../src/backends/backend.js';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { apiClient, readResponse, type ApiClient } from '../helpers/api.js';
import type { InjectServer } from '../helpers/test-server.js';
import { addWorker, completionForm, injectWorker, REMOTE_IMAGE_MODEL, REMOTE_VIDEO_MODEL, stagedKeys, startRemoteInjectServer, startRemoteServer, type Claimed } from './worker-helpers.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG of one flat colour per seed, so each asset's pixels are told apart. */
async function pngOf(width: number, height: number, seed = 1): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: (seed * 53) % 255, g: (seed * 97) % 255, b: 160 } } }).png().toBuffer();
}

async function rawPixels(png: Buffer): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}

/** The callback JSON of a multipart completion: no assets needed, the parts carry the bytes. */
function result(claimed: Claimed, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { job_id: claimed.job_id, lease_token: claimed.lease_token, status: 'completed', error_message: null, metadata: { worker: 'multipart-test' }, ...extra };
}

describe('multipart completion: the outputs travel in the callback', () => {
  let t: InjectServer;
  let user: ApiClient;
  let worker: ReturnType<typeof injectWorker>;

  beforeAll(async () => {
    t = await startRemoteInjectServer({ BACKOFF_BASE_MS: '20', BACKOFF_MAX_MS: '100' });
    user = apiClient(t, t.adminToken);
    worker = injectWorker(t, await addWorker(t, 'multipart-box'));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function claimRemote(body: Record<string, unknown> = {}): Promise<Claimed> {
    const run = await user.submit({ prompt: 'a harbour in fog', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 4, seed: 11, ...body });
    const claimed = await worker.claimJob();
    expect(claimed.job_id).toBe(run.runId);
    return claimed;
  }

  async function assetsOf(jobId: string): Promise<any[]> {
    return (await user.status(jobId)).body.assets;
  }

  it('commits the uploaded pixels in one request, staging nothing, and the claim says how', async () => {
    const claimed = await claimRemote({ num_images: 2 });
    expect(claimed.upload).toMatchObject({
      mode: 'direct',
      count: 2,
      complete_url: `${t.origin}/api/worker/jobs/${claimed.job_id}/complete`,
      complete_parts: ['asset_0', 'asset_1'],
    });
    const pngs = [await pngOf(96, 64, 1), await pngOf(96, 64, 2)];
    // Parts in any order after result; the per-asset seed comes from the optional assets.
    const done = await worker.completeForm(
      claimed.job_id,
      completionForm(result(claimed, { assets: [{ type: 'image', url: 'asset_1', metadata: { seed: 77 } }, { type: 'image', index: 0, metadata: null }] }), [
        ['asset_1', pngs[1]!],
        ['asset_0', pngs[0]!],
      ]),
    );
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ job_id: claimed.job_id, status: 'succeeded', attempt: 1, error: null });
    expect(done.body.assets.map((a: any) => [a.index, a.metadata.seed])).toEqual([
      [0, 11],
      [1, 77],
    ]);

    const run = (await user.status(claimed.job_id)).body;
    expect(run.status).toBe('succeeded');
    expect(run.assets).toHaveLength(2);
    for (const asset of run.assets) {
      expect(asset.thumbnailUrl).toBeTruthy();
      const original = await user.download(asset.url);
      expect(original.status).toBe(200);
      expect((await rawPixels(original.bytes)).equals(await rawPixels(pngs[asset.index]!))).toBe(true);
      expect((await sharp(original.bytes).metadata()).comments?.find((c) => c.keyword === 'parameters')?.text).toContain('a harbour in fog');
    }
    expect(await stagedKeys(t, claimed.job_id)).toEqual([]);
  });

  it('lists what a staged upload leaves, so the check above can fail (control)', async () => {
    const claimed = await claimRemote();
    const staged = await worker.upload(claimed.upload.urls[0]!, await pngOf(96, 64));
    expect(staged.status, staged.text).toBe(200);
    expect(await stagedKeys(t, claimed.job_id)).toEqual([`worker-uploads/${claimed.job_id}/1/0.png`]);
    // The JSON callback still takes it, and the staged copy goes once committed.
    const done = await worker.complete(claimed.job_id, { lease_token: claimed.lease_token, status: 'completed', assets: [{ type: 'image', url: staged.body.url }] });
    expect(done.body.status, done.text).toBe('succeeded');
  });

  it('refuses a part that is not a PNG, gives the job nothing and keeps the lease', async () => {
    const claimed = await claimRemote();
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,', 'latin1');
    const refused = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', gif, 'image/gif']]));
    expect(refused).toMatchObject({ status: 422, body: { code: 'invalid_image', field: 'asset_0' } });
    const empty = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', Buffer.alloc(0)]]));
    expect(empty).toMatchObject({ status: 422, body: { code: 'invalid_image', field: 'asset_0' } });
    expect((await user.status(claimed.job_id)).body).toMatchObject({ status: 'running', assets: [] });
    expect(await stagedKeys(t, claimed.job_id)).toEqual([]);

    const done = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', await pngOf(96, 64)]]));
    expect(done.body.status, done.text).toBe('succeeded');
  });

  it('refuses too many, too few, duplicate, unknown and misplaced parts, and a bad result', async () => {
    const claimed = await claimRemote({ num_images: 2 });
    const [a, b] = [await pngOf(96, 64, 3), await pngOf(96, 64, 4)];
    const refusals: [FormData, Record<string, unknown>][] = [
      [completionForm(result(claimed), [['asset_0', a], ['asset_1', b], ['asset_2', a]]), { status: 422, body: { code: 'invalid_parameter', field: 'asset_2' } }],
      [completionForm(result(claimed), [['asset_0', a]]), { status: 422, body: { code: 'invalid_parameter', field: 'asset_1' } }],
      [completionForm(result(claimed)), { status: 422, body: { code: 'invalid_parameter', field: 'asset_0' } }],
      [completionForm(result(claimed), [['asset_0', a], ['asset_0', b]]), { status: 422, body: { code: 'invalid_parameter', field: 'asset_0' } }],
      [completionForm(result(claimed), [['image', a]]), { status: 422, body: { code: 'invalid_parameter', field: 'image' } }],
      [completionForm(result(claimed, { assets: [{ type: 'image' }] }), [['asset_0', a], ['asset_1', b]]), { status: 422, body: { code: 'invalid_parameter', field: 'assets' } }],
      [completionForm(result(claimed, { assets: [{ type: 'video' }, { type: 'video' }] }), [['asset_0', a], ['asset_1', b]]), { status: 422, body: { field: 'assets[0].type' } }],
      [completionForm('{"lease_token": ', [['asset_0', a], ['asset_1', b]]), { status: 400, body: { code: 'invalid_body', field: 'result' } }],
      [completionForm({ status: 'completed' }, [['asset_0', a], ['asset_1', b]]), { status: 422, body: { field: 'result.lease_token' } }],
      [completionForm(result(claimed, { colour: 'blue' }), [['asset_0', a], ['asset_1', b]]), { status: 422, body: { code: 'unknown_field', field: 'result.colour' } }],
      [completionForm(result(claimed, { job_id: 'another-job' }), [['asset_0', a], ['asset_1', b]]), { status: 422, body: { field: 'job_id' } }],
    ];
    for (const [form, expected] of refusals) expect(await worker.completeForm(claimed.job_id, form)).toMatchObject(expected);

    // result must come first, so the lease is checked before any output byte is read.
    const late = new FormData();
    late.append('asset_0', new Blob([new Uint8Array(a)]), '0.png');
    late.append('result', JSON.stringify(result(claimed)));
    expect(await worker.completeForm(claimed.job_id, late)).toMatchObject({ status: 422, body: { code: 'invalid_parameter', field: 'result' } });
    // A text field where a file belongs.
    const text = new FormData();
    text.append('result', JSON.stringify(result(claimed)));
    text.append('asset_0', 'not a file');
    expect(await worker.completeForm(claimed.job_id, text)).toMatchObject({ status: 422, body: { field: 'asset_0' } });

    expect((await user.status(claimed.job_id)).body).toMatchObject({ status: 'running', assets: [] });
    // The result as a text field (curl -F 'result=<result.json') works as well as a file.
    const good = new FormData();
    good.append('result', JSON.stringify(result(claimed)));
    good.append('asset_0', new Blob([new Uint8Array(a)], { type: 'image/png' }), '0.png');
    good.append('asset_1', new Blob([new Uint8Array(b)], { type: 'image/png' }), '1.png');
    const done = await worker.completeForm(claimed.job_id, good);
    expect(done.body.status, done.text).toBe('succeeded');
    expect(await assetsOf(claimed.job_id)).toHaveLength(2);
  });

  it('still validates a JSON callback by its schema, refuses a body of neither kind, and documents both', async () => {
    const claimed = await claimRemote();
    const api = apiClient(t, worker.token);
    const path = `/api/worker/jobs/${claimed.job_id}/complete`;
    expect(await api.post(path, { lease_token: claimed.lease_token, status: 'completed', colour: 'blue' })).toMatchObject({ status: 422, body: { code: 'unknown_field', field: 'colour' } });
    expect(await api.request('POST', path)).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
    // A content type the route does not take is a 415, as docs/errors.md says (issue #14 §5).
    expect(await api.request('POST', path, 'lease_token=1', { 'content-type': 'text/plain' })).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    const doc = (await user.get('/openapi.json')).body;
    const content = doc.paths['/api/worker/jobs/{id}/complete'].post.requestBody.content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(content['application/json'].schema.required).toContain('lease_token');
    expect(Object.keys(content['multipart/form-data'].schema.properties)).toEqual(['result', 'asset_0']);
    expect((await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', await pngOf(96, 64)]]))).body.status).toBe('succeeded');
  });

  it('answers a repeated callback the same and never adds a second set of assets', async () => {
    const claimed = await claimRemote();
    const png = await pngOf(96, 64, 5);
    const form = () => completionForm(result(claimed), [['asset_0', png]]);
    // Two at once (the answer to the first was lost in flight), then one more later.
    const [first, second] = await Promise.all([worker.completeForm(claimed.job_id, form()), worker.completeForm(claimed.job_id, form())]);
    expect(first.status, first.text).toBe(200);
    expect(second.body).toEqual(first.body);
    const third = await worker.completeForm(claimed.job_id, form());
    expect(third.body).toEqual(first.body);
    // The same callback as JSON, or with other bytes, is still the same answer: one set of assets.
    const other = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', await pngOf(96, 64, 6)]]));
    expect(other.body).toEqual(first.body);
    const assets = await assetsOf(claimed.job_id);
    expect(assets.map((a: any) => a.id)).toEqual(first.body.assets.map((a: any) => a.id));
    expect((await rawPixels((await user.download(assets[0].url)).bytes)).equals(await rawPixels(png))).toBe(true);
  });

  it('reports a failure as multipart; a token this server never issued is lease_lost and adds nothing', async () => {
    const claimed = await claimRemote();
    const failure = await worker.completeForm(claimed.job_id, completionForm(result(claimed, { status: 'failed', error_message: 'CUDA out of memory' })));
    expect(failure.body, failure.text).toMatchObject({ status: 'retrying', attempt: 1, error: { code: 'backend_failed', message: 'CUDA out of memory' } });

    const second = await worker.claimJob();
    expect(second).toMatchObject({ job_id: claimed.job_id, attempt: 2 });
    const png = await pngOf(96, 64, 7);
    const forged = await worker.completeForm(claimed.job_id, completionForm(result(second, { lease_token: '2.ffffffff-0000-0000-0000-000000000000' }), [['asset_0', png]]));
    expect(forged).toMatchObject({ status: 409, body: { code: 'lease_lost' } });
    expect(await assetsOf(claimed.job_id)).toEqual([]);
    const done = await worker.completeForm(claimed.job_id, completionForm(result(second), [['asset_0', png]]));
    expect(done.body).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(await assetsOf(claimed.job_id)).toHaveLength(1);
  });

  it('fails a job for good with a non-retryable failure code', async () => {
    const claimed = await claimRemote();
    const failed = await worker.completeForm(
      claimed.job_id,
      completionForm(result(claimed, { status: 'failed', error_code: 'capability_unsupported', error_message: 'No such sampler here' }), [['asset_0', await pngOf(96, 64)]]),
    );
    expect(failed.body, failed.text).toMatchObject({ status: 'failed', error: { code: 'capability_unsupported' } });
    expect((await user.status(claimed.job_id)).body).toMatchObject({ status: 'failed', assets: [], error: { code: 'capability_unsupported', message: 'No such sampler here' } });
  });

  it('turns a part that passes the magic check but does not decode into a failed attempt, retried as the runner would', async () => {
    const claimed = await claimRemote();
    const broken = Buffer.concat([(await pngOf(96, 64)).subarray(0, 40), Buffer.alloc(64, 7)]);
    const done = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', broken]]));
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ status: 'retrying', assets: [], error: { code: 'backend_failed' } });
    expect(await assetsOf(claimed.job_id)).toHaveLength(0);
    const next = await worker.claimJob();
    expect(next.job_id).toBe(claimed.job_id);
    await worker.complete(claimed.job_id, { lease_token: next.lease_token, status: 'failed', error_message: 'cleanup', retryable: false });
    expect((await user.status(claimed.job_id)).body).toMatchObject({ status: 'failed', assets: [] });
  });

  it('takes a video as one MP4 part, probed, and refuses a PNG in its place', async () => {
    const res = await user.post('/api/generate/text-to-video', { prompt: 'waves at night', model: REMOTE_VIDEO_MODEL, width: 160, height: 96, num_frames: 8, fps: 8, steps: 2, seed: 3 });
    expect(res.status, res.text).toBe(202);
    const claimed = await worker.claimJob();
    expect(claimed.upload).toMatchObject({ type: 'video', count: 1, complete_parts: ['asset_0'] });
    const workDir = await mkdtemp(join(tmpdir(), 'atelier-multipart-video-'));
    try {
      const [video] = (await createBuiltinBackend().generate(claimed.spec as JobSpec, { signal: new AbortController().signal, onProgress: () => {}, workDir })) as GeneratedVideo[];
      const mp4 = await readFile(video!.file);
      expect(await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', await pngOf(160, 96)]]))).toMatchObject({ status: 422, body: { code: 'invalid_image' } });
      const done = await worker.completeForm(claimed.job_id, completionForm(result(claimed), [['asset_0', mp4, 'video/mp4']]));
      expect(done.status, done.text).toBe(200);
      expect(done.body.assets[0]).toMatchObject({ type: 'video', metadata: { format: 'mp4', fps: 8, frame_count: 8, width: 160, height: 96 } });
      const run = (await user.status(claimed.job_id)).body;
      expect(run.status).toBe('succeeded');
      expect((await user.download(run.assets[0].url)).bytes.equals(mp4)).toBe(true);
      expect(await stagedKeys(t, claimed.job_id)).toEqual([]);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});

describe('multipart completion from a lost lease', () => {
  let t: InjectServer;
  let user: ApiClient;

  beforeAll(async () => {
    t = await startRemoteInjectServer({ LEASE_SECONDS: '1', BACKOFF_BASE_MS: '20', BACKOFF_MAX_MS: '100' });
    user = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses the expired attempt with lease_lost before and after the next attempt succeeds, adding nothing', async () => {
    const stale = injectWorker(t, await addWorker(t, 'stale-box'));
    const fresh = injectWorker(t, await addWorker(t, 'fresh-box'));
    const run = await user.submit({ prompt: 'a late delivery', model: REMOTE_IMAGE_MODEL, width: 96, height: 64, steps: 2, seed: 5 });
    const old = await stale.claimJob();
    // No heartbeats: the 1 s lease expires and the job goes back to the queue.
    const requeued = await user.waitFor(run.runId, (r) => r.status === 'queued' && r.attempts >= 1, 10_000);
    expect(requeued.error).toMatchObject({ code: 'lease_expired' });
    const next = await fresh.claimJob();
    expect(next).toMatchObject({ job_id: run.runId, attempt: 2 });

    const png = await pngOf(96, 64, 9);
    const late = await stale.completeForm(run.runId, completionForm(result(old), [['asset_0', png]]));
    expect(late).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'running' } });
    expect((await user.status(run.runId)).body.assets).toEqual([]);

    const done = await fresh.completeForm(run.runId, completionForm(result(next), [['asset_0', png]]));
    expect(done.body, done.text).toMatchObject({ status: 'succeeded', attempt: 2 });
    const later = await stale.completeForm(run.runId, completionForm(result(old), [['asset_0', png]]));
    expect(later).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'succeeded' } });
    expect((await user.status(run.runId)).body.assets.map((a: any) => a.id)).toEqual(done.body.assets.map((a: any) => a.id));
  });
});

describe('multipart completion over a socket', () => {
  it('refuses early without reading the outputs, and leaves no connection hanging', { timeout: 60_000 }, async () => {
    const t = await startRemoteServer();
    let closed = false;
    try {
      const user = apiClient(t, t.adminToken);
      const token = await addWorker(t, 'socket-box');
      await user.submit({ prompt: 'a big output', model: REMOTE_IMAGE_MODEL, width: 64, height: 64, steps: 2, seed: 1 });
      const claimed = await injectWorker(t, token).claimJob();
      // Far more than socket buffers hold, so the refusal comes while the body still arrives.
      const big = Buffer.alloc(32 * 1024 * 1024, 7);
      PNG_SIGNATURE.copy(big);
      const send = async (form: FormData) =>
        readResponse(await fetch(`${t.url}/api/worker/jobs/${claimed.job_id}/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form }));
      expect(await send(completionForm(result(claimed, { lease_token: '1.ffffffff-0000-0000-0000-000000000000' }), [['asset_0', big]]))).toMatchObject({ status: 409, body: { code: 'lease_lost' } });
      expect(await send(completionForm(result(claimed), [['asset_3', big]]))).toMatchObject({ status: 422, body: { field: 'asset_3' } });
      const done = await send(completionForm(result(claimed), [['asset_0', await pngOf(64, 64)]]));
      expect(done.body, done.text).toMatchObject({ status: 'succeeded' });
      // A body left unread would hold its connection open, and close() would wait for it.
      await t.close();
      closed = true;
    } finally {
      if (!closed) await t.close();
    }
  });
});
