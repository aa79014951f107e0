import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { detailEnergy } from '../helpers/detail-energy.js';
import { closedPortUrl, startSafetyChecker } from '../helpers/safety-checker.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const video = { model: 'preview-t2v', prompt: 'waves rolling onto a beach', width: 320, height: 192, num_frames: 8, fps: 8, seed: 4 };

// SAFETY_URL instead of the built-in model: nothing is loaded in-process, so these stay fast.
describe('the external safety checker through the API', () => {
  let checker: Awaited<ReturnType<typeof startSafetyChecker>>;
  beforeAll(async () => {
    checker = await startSafetyChecker();
  });
  afterAll(() => checker.close());

  describe('a checker that flags everything, under blur', () => {
    let t: InjectServer;
    let alice: ApiClient;
    let bob: ApiClient;
    beforeAll(async () => {
      t = await startInjectServer({ SAFETY_POLICY: 'blur', SAFETY_URL: `${checker.origin}/flag` });
      alice = apiClient(t, (await t.addUser('alice')).token);
      bob = apiClient(t, (await t.addUser('bob')).token);
    });
    afterAll(() => t.close());

    it("stores the checker's verdict and scores, under its model name", async () => {
      const run = await alice.generate({ prompt: 'a quiet harbour', width: 256, height: 256, steps: 2, seed: 3 });
      expect(run.assets[0].metadata.safety).toEqual({
        model: `external:${new URL(checker.origin).host}`,
        scores: { drawing: 0, hentai: 0, neutral: 0.1, porn: 0.9, sexy: 0 },
        flagged: true,
        blurred: true,
      });
    });

    it("scans a video by its middle-frame thumbnail: blurred, and the video itself only through its owner's token", async () => {
      const submitted = await alice.post('/api/generate/text-to-video', video);
      expect(submitted.status, submitted.text).toBe(202);
      const before = checker.seen.length;
      const done = await alice.waitFor(submitted.body.runId, undefined, 30_000);
      expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
      expect(checker.seen.length - before).toBe(1);
      const asset = done.assets[0];
      expect(asset.metadata.safety).toMatchObject({ flagged: true, blurred: true });

      const thumbnail = await alice.download(asset.thumbnailUrl);
      expect(await sharp(thumbnail.bytes).metadata()).toMatchObject({ format: 'webp', width: 256, height: 154 });
      const seenFrame = Buffer.from(checker.seen.at(-1)!.body.image_b64 as string, 'base64');
      expect(await detailEnergy(thumbnail.bytes)).toBeLessThan((await detailEnergy(seenFrame)) / 10);

      // The URL handed out is the blurred poster, not the MP4.
      expect((await alice.download(asset.url)).bytes.equals(thumbnail.bytes)).toBe(true);
      const owner = await alice.get(`/api/images/${asset.id}/file`);
      expect([owner.status, owner.headers.get('content-type')]).toEqual([200, 'video/mp4']);
      expect((await bob.get(`/api/images/${asset.id}/file`)).status).toBe(404);
    });
  });

  it('a video flagged under block fails with output_refused and keeps no asset', async () => {
    const t = await startInjectServer({ SAFETY_POLICY: 'block', SAFETY_URL: `${checker.origin}/flag` });
    try {
      const alice = apiClient(t, (await t.addUser('alice')).token);
      const submitted = await alice.post('/api/generate/text-to-video', video);
      const done = await alice.waitFor(submitted.body.runId, undefined, 30_000);
      expect([done.status, done.error?.code, done.attempts, done.assets]).toEqual(['failed', 'output_refused', 1, []]);
      expect((await alice.get('/api/images/history?type=all')).body.images).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('an OpenAI-compatible request whose image is refused gets 422 output_refused', async () => {
    const t = await startInjectServer({ SAFETY_POLICY: 'block', SAFETY_URL: `${checker.origin}/flag` });
    try {
      const alice = apiClient(t, (await t.addUser('alice')).token);
      const res = await alice.post('/v1/images/generations', { prompt: 'a quiet harbour', size: '256x256' });
      expect(res.status, res.text).toBe(422);
      expect(res.text).toContain('output_refused');
      expect(res.text).toContain("refused by this server's safety policy");
    } finally {
      await t.close();
    }
  });

  it('fails closed: with the checker down, every attempt fails with safety_check_failed (retried) and nothing is kept', async () => {
    const t = await startInjectServer({ SAFETY_POLICY: 'flag', SAFETY_URL: await closedPortUrl(), MAX_ATTEMPTS: '2', BACKOFF_BASE_MS: '10' });
    try {
      const alice = apiClient(t, (await t.addUser('alice')).token);
      const submitted = await alice.submit({ prompt: 'a quiet harbour', width: 128, height: 128, steps: 1 });
      const done = await alice.waitFor(submitted.runId, undefined, 30_000);
      expect([done.status, done.error?.code, done.attempts, done.assets]).toEqual(['failed', 'safety_check_failed', 2, []]);
      expect(done.error.message).toMatch(/The safety scan of the output failed: Safety checker .* failed/);
      expect((await alice.get('/api/images/history')).body.images).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
