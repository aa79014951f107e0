import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { detailEnergy } from '../helpers/detail-energy.js';
import { defaultModels, metricsText, metricValue, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const MODEL = 'nsfwjs-mobilenet-v2';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

// The real model, loaded once for this file's server. The server's policy is flag with threshold
// 0 (every output is flagged, as an operator reviewing everything would set it); models override
// it one field at a time: preview-blur and preview-block their policy, preview-lenient its
// threshold (1: porn + hentai never reach it), preview-unscanned turns the scan off.
describe('the output safety scan through the API (nsfwjs MobileNetV2)', () => {
  let t: InjectServer;
  let configDir: { dir: string; remove: () => Promise<void> };
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceId: string;
  const request = (model: string) => ({ model, prompt: 'a red barn in a wheat field', width: 384, height: 256, steps: 3, seed: 21 });

  beforeAll(async () => {
    configDir = await makeTempDir('atelier-safety-config-');
    const models = defaultModels();
    const preview = models.find((m) => m.name === 'preview')!;
    const variant = (name: string, safety: Record<string, unknown>) => ({ ...structuredClone(preview), name, label: name, default: false, safety });
    models.push(variant('preview-blur', { policy: 'blur' }), variant('preview-block', { policy: 'block' }), variant('preview-lenient', { threshold: 1 }), variant('preview-unscanned', { policy: 'off' }));
    t = await startInjectServer({ ATELIER_CONFIG: await writeConfigFile(configDir.dir, { models }), SAFETY_POLICY: 'flag', SAFETY_THRESHOLD: '0' });
    const created = await t.addUser('alice');
    aliceId = created.id;
    alice = apiClient(t, created.token);
    bob = apiClient(t, (await t.addUser('bob')).token);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await configDir?.remove();
  });

  it('flag: stores the five scores and the verdict in metadata.safety, in the run and the image detail, and keeps every copy as rendered', async () => {
    // The first output scanned waits for the model to load: seconds, more on a busy machine.
    const run = await alice.waitFor((await alice.submit(request('preview'))).runId, undefined, 90_000);
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const asset = run.assets[0];
    expect(asset.metadata.safety).toMatchObject({ model: MODEL, flagged: true });
    expect(asset.metadata.safety.blurred).toBeUndefined();
    const scores = asset.metadata.safety.scores as Record<string, number>;
    expect(Object.keys(scores).sort()).toEqual(['drawing', 'hentai', 'neutral', 'porn', 'sexy']);
    expect(Object.values(scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);

    const detail = await alice.get(`/api/images/${asset.id}`);
    expect(detail.body.metadata.safety).toEqual(asset.metadata.safety);
    // The original is served as it is: flagging changes nothing that is delivered.
    const original = await alice.download(asset.url);
    expect((await sharp(original.bytes).metadata()).format).toBe('png');
  }, 120_000);

  it('a model overrides the threshold alone: the same picture under threshold 1 is scanned and not flagged', async () => {
    const run = await alice.generate(request('preview-lenient'));
    expect(run.assets[0].metadata.safety).toMatchObject({ model: MODEL, flagged: false });
    // Same pixels, same scores: the classification is deterministic whatever the policy.
    const flagged = await alice.generate(request('preview'));
    expect(run.assets[0].metadata.safety.scores).toEqual(flagged.assets[0].metadata.safety.scores);
  }, 60_000);

  it('a model with policy off is not scanned', async () => {
    const run = await alice.generate(request('preview-unscanned'));
    expect(run.assets[0].metadata.safety).toBeUndefined();
  }, 60_000);

  it('blur: the thumbnail and variants are blurred, the signed URL is a blurred copy, and the original is served to its owner only', async () => {
    const [plain, blurred] = [await alice.generate(request('preview')), await alice.generate(request('preview-blur'))];
    const asset = blurred.assets[0];
    expect(asset.metadata.safety).toMatchObject({ model: MODEL, flagged: true, blurred: true });

    const thumbnails = await Promise.all([alice.download(plain.assets[0].thumbnailUrl), alice.download(asset.thumbnailUrl)]);
    const [plainEnergy, blurredEnergy] = (await Promise.all(thumbnails.map((d) => detailEnergy(d.bytes)))) as [number, number];
    expect(blurredEnergy).toBeLessThan(plainEnergy / 10);
    for (const name of ['normal', 'high']) {
      const [before, after] = [plain.assets[0].variants.find((v: any) => v.name === name), asset.variants.find((v: any) => v.name === name)];
      const [plainBytes, blurredBytes] = await Promise.all([alice.download(before.url), alice.download(after.url)]);
      expect(await detailEnergy(blurredBytes.bytes), name).toBeLessThan((await detailEnergy(plainBytes.bytes)) / 10);
    }

    // Signed URLs work for whoever holds them, so none points at the original.
    const handedOut = await alice.download(asset.url);
    expect((await sharp(handedOut.bytes).metadata()).format).not.toBe('png');
    expect(await detailEnergy(handedOut.bytes)).toBeLessThan((await detailEnergy((await alice.download(plain.assets[0].url)).bytes)) / 10);
    const detail = await alice.get(`/api/images/${asset.id}`);
    expect(detail.body.imageUrl).not.toContain('0.png');

    // The API's contentType, the served header and the decoded bytes agree: the blurred copy's type, not the original's PNG.
    const decoded = (await sharp(handedOut.bytes).metadata()).format;
    expect(handedOut.contentType).toBe(`image/${decoded}`);
    expect(asset.contentType).toBe(handedOut.contentType);
    const [rerendered] = (await alice.get(`/api/status/${blurred.runId}`)).body.assets;
    expect(rerendered.contentType).toBe(handedOut.contentType);
    for (const variant of asset.variants) {
      const served = await alice.download(variant.url);
      const format = (await sharp(served.bytes).metadata()).format;
      expect(format === 'heif' ? 'avif' : format, variant.name).toBe(variant.format);
      expect(served.contentType, variant.name).toBe(`image/${variant.format}`);
    }
    // An output kept as it is still says and serves PNG.
    const plainServed = await alice.download(plain.assets[0].url);
    expect([plain.assets[0].contentType, plainServed.contentType, `image/${(await sharp(plainServed.bytes).metadata()).format}`]).toEqual(['image/png', 'image/png', 'image/png']);

    const owner = await alice.get(`/api/images/${asset.id}/file`);
    expect(owner.status).toBe(200);
    expect((await sharp(owner.bytes).metadata()).format).toBe('png');
    expect((await bob.get(`/api/images/${asset.id}/file`)).status).toBe(404);
  }, 60_000);

  it('blur through the OpenAI route: b64_json is a PNG, as OpenAI documents it, of the blurred picture', async () => {
    const size = { width: 384, height: 256 };
    const [plain, blurred] = await Promise.all(
      ['preview', 'preview-blur'].map((model) => alice.post('/v1/images/generations', { model, prompt: 'a red barn in a wheat field', size: `${size.width}x${size.height}`, response_format: 'b64_json' })),
    );
    expect([plain!.status, blurred!.status], blurred!.text).toEqual([200, 200]);
    const [plainPng, blurredPng] = [plain!, blurred!].map((r) => Buffer.from(r.body.data[0].b64_json as string, 'base64'));
    expect((await sharp(blurredPng).metadata()).format).toBe('png');
    expect(await detailEnergy(blurredPng!)).toBeLessThan((await detailEnergy(plainPng!)) / 10);
  }, 60_000);

  it('block: the run fails with output_refused, is not retried, and keeps no asset: no row, no file', async () => {
    const submitted = await alice.submit(request('preview-block'));
    const run = await alice.waitFor(submitted.runId, undefined, 60_000);
    expect(run.status).toBe('failed');
    expect(run.error.code).toBe('output_refused');
    expect(run.error.message).toMatch(/refused by this server's safety policy/);
    expect(run.attempts).toBe(1);
    expect(run.assets).toEqual([]);
    const history = await alice.get('/api/images/history?perPage=100');
    expect(history.body.images.map((i: any) => i.runId)).not.toContain(submitted.runId);
    const runDir = (runId: string) => join(t.dataDir, 'media', 'workspace-temp', aliceId, runId);
    expect((await exists(runDir(submitted.runId))) ? await readdir(runDir(submitted.runId)) : []).toEqual([]);
    // Where a kept run's files are: the check above looks in the right place.
    const kept = await alice.generate(request('preview'));
    expect(await readdir(runDir(kept.runId))).toContain('0.png');
  }, 60_000);

  it('counts scans by result and times them in /metrics', async () => {
    const text = await metricsText(t);
    expect(metricValue(text, `atelier_safety_scans_total{model="${MODEL}",result="flagged"}`)).toBeGreaterThanOrEqual(4);
    expect(metricValue(text, `atelier_safety_scans_total{model="${MODEL}",result="clean"}`)).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, `atelier_safety_scan_seconds_count{model="${MODEL}"}`)).toBeGreaterThanOrEqual(5);
    // The block test's refusal is the policy at work, not a media processing failure.
    expect(metricValue(text, 'atelier_media_results_total{result="refused",error_class="none"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'atelier_media_results_total{result="failure",error_class="processing"}')).toBe(0);
  });
});
