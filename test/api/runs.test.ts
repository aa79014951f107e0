import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { createHeldBackend, heldServerOptions, HELD_MODEL, type HeldBackend } from '../helpers/held-backend.js';
import { structuredPng, uploadBytes } from '../helpers/server-extras.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const SMALL = { width: 128, height: 128, steps: 3 };

/** A run view without its signed URLs (each response signs them anew). */
function withoutUrls(view: any): unknown {
  return JSON.parse(JSON.stringify(view, (key, value) => (/url$/i.test(key) || key === 'urlExpiresAt' ? undefined : value)));
}

/** Every page of `path` (a /api/runs query), following nextCursor; `between` runs after each page. */
async function allPages(api: ApiClient, path: string, between: () => Promise<void> = async () => {}): Promise<any[]> {
  const runs: any[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const res = await api.get(cursor === null ? path : `${path}&cursor=${encodeURIComponent(cursor)}`);
    expect(res.status, res.text).toBe(200);
    runs.push(...res.body.runs);
    cursor = res.body.nextCursor;
    if (cursor === null) return runs;
    await between();
  }
  throw new Error('more than 50 pages');
}

/** Decoded RGBA pixels of a run's first asset. */
async function pixelsOf(api: ApiClient, run: any): Promise<Buffer> {
  const file = await api.download(run.assets[0].url);
  expect(file.status).toBe(200);
  return sharp(file.bytes).ensureAlpha().raw().toBuffer();
}

describe('GET /api/runs', () => {
  let t: InjectServer;
  let held: HeldBackend;
  let alice: ApiClient;
  let aliceId: string;
  let bob: ApiClient;
  let admin: ApiClient;
  /** Alice's run ids by what they are, submitted in this order. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    held = createHeldBackend();
    t = await startInjectServer({ MAX_ATTEMPTS: '1' }, heldServerOptions(held));
    const a = await t.addUser('alice');
    aliceId = a.id;
    alice = apiClient(t, a.token);
    bob = apiClient(t, (await t.addUser('bob')).token);
    admin = apiClient(t, t.adminToken);

    const t2i = async (body: Record<string, unknown>) => (await alice.submit({ ...SMALL, ...body })).runId as string;
    ids.first = await t2i({ prompt: 'first', seed: 1 });
    await alice.waitFor(ids.first);
    held.failNext('the held backend failed this one');
    ids.failed = await t2i({ prompt: 'doomed', model: HELD_MODEL, seed: 2 });
    expect((await alice.waitFor(ids.failed)).status).toBe('failed');
    ids.canceled = await t2i({ prompt: 'never mind', model: HELD_MODEL, seed: 3 });
    await held.waitForStarted(2);
    expect((await alice.post(`/api/runs/${ids.canceled}/cancel`)).status).toBe(200);
    const uploadId = await uploadBytes(t, a.token, await structuredPng(96, 96));
    const i2i = await alice.post('/api/generate/image-to-image', { ...SMALL, prompt: 'from a picture', seed: 4, reference_image: { upload_id: uploadId } });
    expect(i2i.status, i2i.text).toBe(202);
    ids.i2i = i2i.body.runId as string;
    await alice.waitFor(i2i.body.runId);
    ids.last = await t2i({ prompt: 'last', seed: 5 });
    await alice.waitFor(ids.last);
    // Bob and the admin have runs of their own, which alice never sees.
    await bob.generate({ ...SMALL, prompt: 'bob', seed: 6 });
    await admin.generate({ ...SMALL, prompt: 'admin', seed: 7 });
  });
  afterAll(async () => {
    held?.release();
    await t?.close();
  });

  it("lists the caller's runs in every status, newest first, each as GET /api/status shows it", async () => {
    const res = await alice.get('/api/runs');
    expect(res.status, res.text).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.runs.map((r: any) => r.runId)).toEqual([ids.last, ids.i2i, ids.canceled, ids.failed, ids.first]);
    expect(res.body.runs.map((r: any) => r.status)).toEqual(['succeeded', 'succeeded', 'canceled', 'failed', 'succeeded']);
    for (const run of res.body.runs) expect(withoutUrls(run)).toEqual(withoutUrls((await alice.status(run.runId)).body));
    expect(res.body.runs[3].error).toMatchObject({ code: 'job_failed', message: 'the held backend failed this one' });
    // Assets come with working signed links.
    expect((await alice.download(res.body.runs[0].assets[0].url)).status).toBe(200);
  });

  it('filters by status, mode and model', async () => {
    const idsOf = async (query: string) => (await alice.get(`/api/runs?${query}`)).body.runs.map((r: any) => r.runId);
    expect(await idsOf('status=failed')).toEqual([ids.failed]);
    expect(await idsOf('status=canceled')).toEqual([ids.canceled]);
    expect(await idsOf('status=succeeded')).toEqual([ids.last, ids.i2i, ids.first]);
    expect(await idsOf('mode=i2i')).toEqual([ids.i2i]);
    expect(await idsOf(`model=${HELD_MODEL}`)).toEqual([ids.canceled, ids.failed]);
    expect(await idsOf(`model=${HELD_MODEL}&status=failed`)).toEqual([ids.failed]);
    expect(await idsOf('status=running')).toEqual([]);
  });

  it('pages with an opaque cursor that stays stable while new runs arrive', async () => {
    const before = (await alice.get('/api/runs?limit=100')).body.runs.map((r: any) => r.runId);
    const added: string[] = [];
    const paged = await allPages(alice, '/api/runs?limit=2', async () => {
      // A run submitted between pages is newer than everything listed: no later page shifts.
      added.push((await alice.submit({ ...SMALL, prompt: `inserted ${added.length}`, seed: 100 + added.length })).runId);
    });
    expect(added.length).toBeGreaterThanOrEqual(2);
    expect(paged.map((r) => r.runId)).toEqual(before);
    const after = (await alice.get('/api/runs?limit=100')).body.runs.map((r: any) => r.runId);
    expect(after).toEqual([...[...added].reverse(), ...before]);
    for (const id of added) await alice.waitFor(id);
  });

  it('keeps paging exact when runs share a creation millisecond (ties broken by id)', async () => {
    const all = (await alice.get('/api/runs?limit=100')).body.runs.map((r: any) => r.runId);
    for (const limit of [1, 3]) {
      expect((await allPages(alice, `/api/runs?limit=${limit}`)).map((r) => r.runId)).toEqual(all);
    }
  });

  it("shows a user only their own runs; admins see their own unless they ask for another user's", async () => {
    const bobs = (await bob.get('/api/runs')).body.runs;
    expect(bobs.map((r: any) => r.parameters.prompt)).toEqual(['bob']);
    const mine = (await admin.get('/api/runs')).body.runs;
    expect(mine.map((r: any) => r.parameters.prompt)).toEqual(['admin']);
    const alices = (await admin.get(`/api/runs?user=${aliceId}&limit=100`)).body.runs;
    expect(alices.map((r: any) => r.runId)).toEqual((await alice.get('/api/runs?limit=100')).body.runs.map((r: any) => r.runId));
    const refused = await bob.get(`/api/runs?user=${aliceId}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'forbidden', field: 'user' });
  });

  it.each([
    ['status=finished', 'invalid_parameter', 'status'],
    ['mode=img2img', 'invalid_parameter', 'mode'],
    ['limit=0', 'invalid_parameter', 'limit'],
    ['limit=101', 'invalid_parameter', 'limit'],
    ['limit=ten', 'invalid_parameter', 'limit'],
    ['cursor=not-a-cursor', 'invalid_parameter', 'cursor'],
    [`cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'invalid_parameter', 'cursor'],
    ['colour=red', 'unknown_field', 'colour'],
  ])('refuses ?%s with a 422 %s naming %s', async (query, code, field) => {
    const res = await alice.get(`/api/runs?${query}`);
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code, field });
  });

  it('needs a token', async () => {
    expect((await apiClient(t, null).get('/api/runs')).status).toBe(401);
  });
});

describe('POST /api/runs/{runId}/rerun', () => {
  let t: InjectServer;
  let held: HeldBackend;
  let alice: ApiClient;
  let aliceToken: string;
  let bob: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    held = createHeldBackend();
    t = await startInjectServer({ MAX_ATTEMPTS: '1' }, heldServerOptions(held));
    const a = await t.addUser('alice');
    aliceToken = a.token;
    alice = apiClient(t, a.token);
    bob = apiClient(t, (await t.addUser('bob')).token);
    admin = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    held?.release();
    await t?.close();
  });

  async function rerun(client: ApiClient, runId: string, body?: unknown) {
    const res = await client.post(`/api/runs/${runId}/rerun`, body);
    expect(res.status, res.text).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/status/${res.body.runId}`);
    return { submitted: res.body, done: await client.waitFor(res.body.runId) };
  }

  it('runs the same spec with the recorded seed as a new run: identical pixels', async () => {
    // A random seed: the rerun must use the one recorded, not draw another.
    const original = await alice.generate({ prompt: 'a rerun lighthouse', width: 192, height: 128, steps: 4, seed: -1, num_images: 2, negative_prompt: 'fog' });
    const { submitted, done } = await rerun(alice, original.runId);
    expect(submitted.runId).not.toBe(original.runId);
    expect(submitted.status).toBe('queued');
    expect(submitted.seed).toBe(original.seed);
    expect(submitted.parameters).toEqual(original.parameters);
    expect(done.status).toBe('succeeded');
    expect(done.assets).toHaveLength(2);
    expect(await pixelsOf(alice, done)).toEqual(await pixelsOf(alice, original));
    const second = (r: any) => ({ ...r, assets: [r.assets[1]] });
    expect(await pixelsOf(alice, second(done))).toEqual(await pixelsOf(alice, second(original)));
    // Both runs are listed: the rerun is a run of its own.
    const listed = (await alice.get('/api/runs')).body.runs.map((r: any) => r.runId);
    expect(listed.slice(0, 2)).toEqual([done.runId, original.runId]);
  });

  it('with {"seed": n} renders that seed instead: different pixels', async () => {
    const original = await alice.generate({ prompt: 'a seeded rerun', ...SMALL, seed: 41 });
    const { submitted, done } = await rerun(alice, original.runId, { seed: 42 });
    expect(submitted.seed).toBe(42);
    expect({ ...submitted.parameters, seed: 41 }).toEqual(original.parameters);
    expect(await pixelsOf(alice, done)).not.toEqual(await pixelsOf(alice, original));
    // …and is the same picture a fresh request with seed 42 gives.
    const fresh = await alice.generate({ prompt: 'a seeded rerun', ...SMALL, seed: 42 });
    expect(await pixelsOf(alice, done)).toEqual(await pixelsOf(alice, fresh));
  });

  it('takes {"seed": -1} as a random seed', async () => {
    const original = await alice.generate({ prompt: 'a random rerun', ...SMALL, seed: 5 });
    const { submitted } = await rerun(alice, original.runId, { seed: -1 });
    expect(submitted.seed).toBeGreaterThanOrEqual(0);
    expect(submitted.seed).not.toBe(5);
  });

  it('reuses an image-to-image run’s held reference; falls back to its upload; 409 inputs_expired once both are gone', async () => {
    const uploadId = await uploadBytes(t, aliceToken, await structuredPng(160, 120));
    const submitted = await alice.post('/api/generate/image-to-image', { prompt: 'a copied picture', ...SMALL, seed: 8, reference_image: { upload_id: uploadId } });
    expect(submitted.status, submitted.text).toBe(202);
    const original = await alice.waitFor(submitted.body.runId);
    expect(original.status).toBe('succeeded');

    const fromHeld = await rerun(alice, original.runId);
    expect(fromHeld.done.status).toBe('succeeded');
    expect(fromHeld.done.parameters.referenceImage).toEqual(original.parameters.referenceImage);
    expect(await pixelsOf(alice, fromHeld.done)).toEqual(await pixelsOf(alice, original));

    // Retention deletes a finished run's held copies; the upload still has the same bytes.
    const media = join(t.dataDir, 'media');
    const aliceId = (await alice.get('/api/me')).body.id as string;
    await rm(join(media, 'job-inputs', aliceId, original.runId), { recursive: true, force: true });
    const fromUpload = await rerun(alice, original.runId);
    expect(fromUpload.done.status).toBe('succeeded');
    expect(await pixelsOf(alice, fromUpload.done)).toEqual(await pixelsOf(alice, original));

    // Then the upload's bytes go too: nothing left to render from.
    await rm(join(media, 'uploads', aliceId, uploadId), { recursive: true, force: true });
    const before = (await alice.get('/api/runs?limit=100')).body.runs.length;
    const refused = await alice.post(`/api/runs/${original.runId}/rerun`);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body).toMatchObject({ code: 'inputs_expired', field: 'reference_image' });
    expect(refused.body.message).toMatch(/no longer held/);
    expect((await alice.get('/api/runs?limit=100')).body.runs.length).toBe(before);
    // The rerun made from the upload still holds its own copy, so it can be rerun.
    expect((await rerun(alice, fromUpload.done.runId)).done.status).toBe('succeeded');
  });

  it('reruns a failed or canceled run too', async () => {
    held.failNext();
    const failed = await alice.submit({ prompt: 'failed then rerun', model: HELD_MODEL, ...SMALL, seed: 9 });
    expect((await alice.waitFor(failed.runId)).status).toBe('failed');
    const canceled = await alice.submit({ prompt: 'canceled then rerun', model: HELD_MODEL, ...SMALL, seed: 9 });
    await alice.waitFor(canceled.runId, (r) => r.status === 'running');
    expect((await alice.post(`/api/runs/${canceled.runId}/cancel`)).body.status).toBe('canceled');
    held.release();
    expect((await rerun(alice, failed.runId)).done.status).toBe('succeeded');
    expect((await rerun(alice, canceled.runId)).done.status).toBe('succeeded');
  });

  it('only the owner or an admin may rerun; an admin’s rerun is the admin’s run', async () => {
    const original = await alice.generate({ prompt: 'owned by alice', ...SMALL, seed: 10 });
    const refused = await bob.post(`/api/runs/${original.runId}/rerun`);
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('not_found');
    const { done } = await rerun(admin, original.runId);
    expect(done.status).toBe('succeeded');
    expect(await pixelsOf(admin, done)).toEqual(await pixelsOf(alice, original));
    expect((await admin.get('/api/runs')).body.runs[0].runId).toBe(done.runId);
    expect((await alice.status(done.runId)).status).toBe(404);
  });

  it('refuses a bad body and an unknown run', async () => {
    const original = await alice.generate({ prompt: 'bad bodies', ...SMALL, seed: 11 });
    const badSeed = await alice.post(`/api/runs/${original.runId}/rerun`, { seed: 'many' });
    expect(badSeed.status).toBe(422);
    expect(badSeed.body).toMatchObject({ code: 'invalid_parameter', field: 'seed' });
    const unknown = await alice.post(`/api/runs/${original.runId}/rerun`, { seed: 1, steps: 9 });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: 'unknown_field', field: 'steps' });
    expect((await alice.post('/api/runs/no-such-run/rerun')).status).toBe(404);
  });
});
