import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, collectEvents, type ApiClient } from '../helpers/api.js';
import { defaultModels, metricsText, metricValue, structuredPng, uploadBytes, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** Small and quick; every test adds its own prompt so tests never hit each other's runs. */
const BASE = { width: 128, height: 128, steps: 3, seed: 4242 } as const;

/** The bytes of a run's assets in index order, each downloaded by `client`. */
async function bytesOf(client: ApiClient, run: any): Promise<Buffer[]> {
  const files = [];
  for (const asset of [...run.assets].sort((a: any, b: any) => a.index - b.index)) {
    const file = await client.download(asset.url);
    expect(file.status).toBe(200);
    files.push(file.bytes);
  }
  return files;
}

describe('prompt cache (seed-aware by default, per-user scope)', () => {
  let t: InjectServer;
  let configDir: { dir: string; remove: () => Promise<void> };
  let alice: ApiClient;
  let aliceToken: string;
  let bob: ApiClient;

  beforeAll(async () => {
    // A second text-to-image model (same built-in backend) so a model change can be tested.
    configDir = await makeTempDir('atelier-cache-config-');
    const models = [...defaultModels(), { ...defaultModels()[0]!, name: 'preview-alt', label: 'Preview renderer (alternate name)', default: false }];
    const configPath = await writeConfigFile(configDir.dir, { models });
    t = await startInjectServer({ CACHE_DEFAULT_MODE: 'seed-aware', ATELIER_CONFIG: configPath });
    aliceToken = (await t.addUser('alice')).token;
    alice = apiClient(t, aliceToken);
    bob = apiClient(t, (await t.addUser('bob')).token);
  });
  afterAll(async () => {
    await t?.close();
    await configDir?.remove();
  });

  it('serves an identical fixed-seed request from the cache: succeeded at once, own assets, same bytes', async () => {
    const body = { ...BASE, prompt: 'a lighthouse at dusk', num_images: 2 };
    const first = await alice.generate(body);
    expect(first.cached).toBe(false);
    expect(first.cachedFrom).toBeNull();

    const res = await alice.post('/api/generate/text-to-image', body);
    expect(res.status, res.text).toBe(202);
    const second = res.body;
    expect(second.status).toBe('succeeded');
    expect(second.cached).toBe(true);
    expect(second.cachedFrom).toBe(first.runId);
    expect(second.runId).not.toBe(first.runId);
    expect(second.seed).toBe(first.seed);
    expect(second.progress).toMatchObject({ fraction: 1 });
    expect(second.assets).toHaveLength(2);

    const firstIds = first.assets.map((a: any) => a.id);
    for (const asset of second.assets) expect(firstIds).not.toContain(asset.id);
    expect(await bytesOf(alice, second)).toEqual(await bytesOf(alice, first));
    // The status route says the same.
    const status = await alice.status(second.runId);
    expect(status.body).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: first.runId });
  });

  it("keeps the cached run's files independent: deleting the source image leaves the copy served", async () => {
    const body = { ...BASE, prompt: 'an orchard in fog' };
    const first = await alice.generate(body);
    const second = (await alice.post('/api/generate/text-to-image', body)).body;
    expect(second.cached).toBe(true);
    const firstBytes = await bytesOf(alice, first);

    expect((await alice.delete(`/api/images/${first.assets[0].id}`)).status).toBe(204);
    expect((await alice.download(first.assets[0].url)).status).not.toBe(200);
    const copy = await alice.download(second.assets[0].url);
    expect(copy.status).toBe(200);
    expect(copy.bytes.equals(firstBytes[0]!)).toBe(true);
    if (second.assets[0].thumbnailUrl) expect((await alice.download(second.assets[0].thumbnailUrl)).status).toBe(200);
    const detail = await alice.get(`/api/images/${second.assets[0].id}`);
    expect(detail.status).toBe(200);
    expect((await alice.get(`/api/images/${second.assets[0].id}/file`)).status).toBe(200);
  });

  it('emits no progress for a cached run: its stream is queued then succeeded (cached: true)', async () => {
    const body = { ...BASE, prompt: 'a cathedral of glass' };
    const first = await alice.generate(body);
    const second = (await alice.post('/api/generate/text-to-image', body)).body;
    expect(second.cached).toBe(true);
    const events = await collectEvents(await alice.openStream(second.runId), 10_000);
    expect(events.map((e) => e.event)).toEqual(['queued', 'succeeded']);
    const data = JSON.parse(events[1]!.data);
    expect(data).toMatchObject({ runId: second.runId, type: 'succeeded', cached: true, cachedFrom: first.runId });
  });

  it('normalises the prompt: extra whitespace still hits', async () => {
    const first = await alice.generate({ ...BASE, prompt: 'a red fox in snow' });
    const second = (await alice.post('/api/generate/text-to-image', { ...BASE, prompt: '   a  red \n fox\tin   snow  ' })).body;
    expect(second.status).toBe('succeeded');
    expect(second.cached).toBe(true);
    expect(second.cachedFrom).toBe(first.runId);
  });

  it('misses on any change that affects the output (steps, size, negative prompt, model, seed)', async () => {
    const body = { ...BASE, prompt: 'a harbour with boats', negative_prompt: 'blurry' };
    const first = await alice.generate(body);
    // Sanity: the unchanged request hits.
    expect((await alice.post('/api/generate/text-to-image', body)).body.cached).toBe(true);
    const changes: Record<string, Record<string, unknown>> = {
      steps: { steps: BASE.steps + 1 },
      size: { width: 136 },
      'negative prompt': { negative_prompt: 'grainy' },
      'no negative prompt': { negative_prompt: undefined },
      model: { model: 'preview-alt' },
      seed: { seed: BASE.seed + 1 },
      cfg: { cfg_scale: 3 },
      'batch size': { num_images: 2 },
    };
    for (const [what, change] of Object.entries(changes)) {
      const res = await alice.post('/api/generate/text-to-image', { ...body, ...change });
      expect(res.status, `${what}: ${res.text}`).toBe(202);
      expect(res.body.cached, what).toBe(false);
      expect(res.body.cachedFrom, what).toBeNull();
      expect(res.body.status, what).not.toBe('succeeded');
      const done = await alice.waitFor(res.body.runId);
      expect(done.status, what).toBe('succeeded');
      expect(done.cached, what).toBe(false);
    }
    expect(first.cached).toBe(false);
  });

  it('never hits for a random seed in seed-aware mode (seed -1 or omitted)', async () => {
    for (const seed of [-1, undefined]) {
      const body = { ...BASE, prompt: `a random sky ${String(seed)}`, seed };
      const first = await alice.generate(body);
      expect(first.cached).toBe(false);
      const second = await alice.submit(body);
      expect(second.cached).toBe(false);
      expect(second.status).not.toBe('succeeded');
      expect((await alice.waitFor(second.runId)).cached).toBe(false);
    }
  });

  it("seed-agnostic mode hits with a different seed and reports the source run's seed", async () => {
    const first = await alice.generate({ ...BASE, prompt: 'a dune at noon', seed: 111 });
    const res = await alice.post('/api/generate/text-to-image', { ...BASE, prompt: 'a dune at noon', seed: 222, cache_mode: 'seed-agnostic' });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: first.runId, seed: 111 });
    expect(res.body.parameters.seed).toBe(111);
    expect(res.body.assets[0].metadata.seed).toBe(111);
    // A random seed also hits in seed-agnostic mode.
    const random = await alice.submit({ ...BASE, prompt: 'a dune at noon', seed: -1, cache_mode: 'seed-agnostic' });
    expect(random).toMatchObject({ cached: true, seed: 111 });
  });

  it("cache_mode 'off' misses even for an identical request", async () => {
    const body = { ...BASE, prompt: 'a quiet library' };
    await alice.generate(body);
    const res = await alice.submit({ ...body, cache_mode: 'off' });
    expect(res.cached).toBe(false);
    expect((await alice.waitFor(res.runId)).cached).toBe(false);
  });

  it("is per user by default: another user's identical request misses", async () => {
    const body = { ...BASE, prompt: 'a private garden' };
    await alice.generate(body);
    const res = await bob.submit(body);
    expect(res.cached).toBe(false);
    const done = await bob.waitFor(res.runId);
    expect(done.cached).toBe(false);
    // Now bob has his own entry.
    expect((await bob.submit(body)).cached).toBe(true);
  });

  it('POST /api/cache/lookup: a miss, then a hit naming the run; a sha256 key; a reason for random seeds', async () => {
    const parameters = { ...BASE, prompt: 'a lookup test pattern' };
    const miss = await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters });
    expect(miss.status, miss.text).toBe(200);
    expect(miss.body).toMatchObject({ hit: false, mode: 'seed-aware', seedAgnostic: false, runId: null, cachedAt: null, expiresAt: null });
    expect(miss.body.key).toMatch(/^[0-9a-f]{64}$/);

    const run = await alice.generate(parameters);
    const hit = await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters });
    expect(hit.status).toBe(200);
    expect(hit.body).toMatchObject({ hit: true, runId: run.runId, key: miss.body.key });
    expect(Date.parse(hit.body.expiresAt)).toBeGreaterThan(Date.parse(hit.body.cachedAt));
    // kind defaults to text-to-image
    expect((await alice.post('/api/cache/lookup', { parameters })).body).toMatchObject({ hit: true, runId: run.runId });

    const agnostic = await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters: { ...parameters, seed: 9, cache_mode: 'seed-agnostic' } });
    expect(agnostic.body).toMatchObject({ hit: true, runId: run.runId, seedAgnostic: true, mode: 'seed-agnostic' });
    expect(agnostic.body.key).toMatch(/^[0-9a-f]{64}$/);
    expect(agnostic.body.key).not.toBe(miss.body.key);

    const random = await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters: { ...parameters, seed: -1 } });
    expect(random.status).toBe(200);
    expect(random.body).toMatchObject({ hit: false, key: null, runId: null });
    expect(random.body.reason).toMatch(/random seed/);
    const off = await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters: { ...parameters, cache_mode: 'off' } });
    expect(off.body).toMatchObject({ hit: false, key: null, mode: 'off' });
    expect(off.body.reason).toMatch(/off/);

    // Bob's lookup of the same parameters misses (user scope).
    expect((await bob.post('/api/cache/lookup', { kind: 'text-to-image', parameters })).body.hit).toBe(false);
    // Parameters are validated by the generate route's own schema.
    const invalid = await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters: { ...parameters, bogus: 1 } });
    expect(invalid.status).toBe(422);
  });

  it('does not count lookups through /api/cache/lookup in the hit metrics', async () => {
    const before = metricValue(await metricsText(t), 'atelier_prompt_cache_lookups_total{result="hit"}');
    const parameters = { ...BASE, prompt: 'a lighthouse at dusk', num_images: 2 };
    expect((await alice.post('/api/cache/lookup', { kind: 'text-to-image', parameters })).body.hit).toBe(true);
    expect(metricValue(await metricsText(t), 'atelier_prompt_cache_lookups_total{result="hit"}')).toBe(before);
  });

  it('serves the OpenAI route from the cache too', async () => {
    const body = { prompt: 'an openai cached kite', size: '128x128', steps: 3, seed: 77, n: 2 };
    const first = await alice.post('/v1/images/generations', body);
    expect(first.status, first.text).toBe(200);
    const before = metricValue(await metricsText(t), 'atelier_prompt_cache_lookups_total{result="hit"}');
    const second = await alice.post('/v1/images/generations', { ...body, response_format: 'b64_json' });
    expect(second.status, second.text).toBe(200);
    expect(metricValue(await metricsText(t), 'atelier_prompt_cache_lookups_total{result="hit"}')).toBe(before + 1);
    expect(second.body.data).toHaveLength(2);
    const firstBytes = await Promise.all(first.body.data.map(async (d: any) => (await alice.download(d.url)).bytes));
    expect(second.body.data.map((d: any) => Buffer.from(d.b64_json, 'base64'))).toEqual(firstBytes);
    expect(second.body.data.map((d: any) => d.seed)).toEqual([77, 78]);
  });

  it("gives a cached run's assets the scores of the identical source images", async () => {
    // SPEC §7: scores are stored per artifact. A cached run's assets are byte-identical
    // copies, so they should carry the same scores (copied, or computed for the copies).
    const body = { ...BASE, prompt: 'a scored pair of kites', num_images: 2 };
    const first = await alice.generate(body);
    const scored = await alice.waitFor(first.runId, (r) => r.assets.every((a: any) => a.evaluations.phash !== undefined), 10_000);
    const second = (await alice.post('/api/generate/text-to-image', body)).body;
    expect(second.cached).toBe(true);
    const deadline = Date.now() + 3_000;
    let view = (await alice.status(second.runId)).body;
    while (view.assets.some((a: any) => a.evaluations.phash === undefined) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      view = (await alice.status(second.runId)).body;
    }
    const byIndex = (run: any) => [...run.assets].sort((a: any, b: any) => a.index - b.index).map((a: any) => a.evaluations);
    expect(byIndex(view)).toEqual(byIndex(scored));
  });

  it('exports hit and miss counters and the hit ratio on /metrics', async () => {
    const text = await metricsText(t);
    const hits = metricValue(text, 'atelier_prompt_cache_lookups_total{result="hit"}');
    const misses = metricValue(text, 'atelier_prompt_cache_lookups_total{result="miss"}');
    expect(hits).toBeGreaterThanOrEqual(1);
    expect(misses).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^atelier_prompt_cache_hit_ratio [0-9.e-]+$/m);
    expect(metricValue(text, 'atelier_prompt_cache_hit_ratio')).toBeCloseTo(hits / (hits + misses), 6);
  });

  it('keys image-to-image references by content: two uploads of the same bytes hit each other', async () => {
    const png = await structuredPng(160, 128);
    const uploadA = await uploadBytes(t, aliceToken, png, 'a.png');
    const uploadB = await uploadBytes(t, aliceToken, png, 'b.png');
    expect(uploadA).not.toBe(uploadB);
    const body = { prompt: 'make it autumn', width: 128, height: 96, steps: 3, seed: 5, denoise_strength: 0.6 };
    const first = await alice.post('/api/generate/image-to-image', { ...body, reference_image: { upload_id: uploadA } });
    expect(first.status, first.text).toBe(202);
    const firstDone = await alice.waitFor(first.body.runId);
    expect(firstDone.status).toBe('succeeded');
    expect(firstDone.cached).toBe(false);

    const second = await alice.post('/api/generate/image-to-image', { ...body, reference_image: { upload_id: uploadB } });
    expect(second.status, second.text).toBe(202);
    expect(second.body).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: first.body.runId });
    expect(second.body.parameters.referenceImage).toMatchObject({ uploadId: uploadB });
    expect(await bytesOf(alice, second.body)).toEqual(await bytesOf(alice, firstDone));

    // The lookup route keys references by content as well.
    const lookup = await alice.post('/api/cache/lookup', { kind: 'image-to-image', parameters: { ...body, reference_image: { upload_id: uploadB } } });
    expect(lookup.status, lookup.text).toBe(200);
    expect(lookup.body).toMatchObject({ hit: true, runId: first.body.runId });
    const byUrl = await alice.post('/api/cache/lookup', { kind: 'image-to-image', parameters: { ...body, reference_image: { url: 'http://example.com/a.png' } } });
    expect(byUrl.status).toBe(422);

    // A different picture misses.
    const other = await uploadBytes(t, aliceToken, await structuredPng(162, 128), 'c.png');
    const third = await alice.post('/api/generate/image-to-image', { ...body, reference_image: { upload_id: other } });
    expect(third.status).toBe(202);
    expect(third.body.cached).toBe(false);
    await alice.waitFor(third.body.runId);
  });
});

describe('prompt cache with CACHE_SCOPE=global', () => {
  let t: InjectServer;
  beforeAll(async () => {
    t = await startInjectServer({ CACHE_DEFAULT_MODE: 'seed-aware', CACHE_SCOPE: 'global' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("serves another user's identical run, with the caller's own asset copies", async () => {
    const carol = apiClient(t, (await t.addUser('carol')).token);
    const dave = apiClient(t, (await t.addUser('dave')).token);
    const body = { ...BASE, prompt: 'a shared sunrise' };
    const first = await carol.generate(body);
    const res = await dave.post('/api/generate/text-to-image', body);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: first.runId });
    expect(await bytesOf(dave, res.body)).toEqual(await bytesOf(carol, first));
    // Dave owns his copy; carol's image stays hers.
    expect((await dave.get(`/api/images/${res.body.assets[0].id}`)).status).toBe(200);
    expect((await dave.get(`/api/images/${first.assets[0].id}`)).status).toBe(404);
  });
});

describe('prompt cache with CACHE_TTL_DAYS=0', () => {
  let t: InjectServer;
  beforeAll(async () => {
    t = await startInjectServer({ CACHE_DEFAULT_MODE: 'seed-aware', CACHE_TTL_DAYS: '0' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('never hits: entries expire as they are made', async () => {
    const api = apiClient(t, t.adminToken);
    const body = { ...BASE, prompt: 'an ephemeral cloud' };
    await api.generate(body);
    const res = await api.submit(body);
    expect(res.cached).toBe(false);
    expect((await api.waitFor(res.runId)).cached).toBe(false);
    expect((await api.post('/api/cache/lookup', { kind: 'text-to-image', parameters: body })).body.hit).toBe(false);
  });
});
