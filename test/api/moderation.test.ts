import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { metricsText, metricSum, metricValue, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

type Behaviour = 'allow' | 'flag' | 'hang' | 'error' | 'garbage';

/** A stand-in moderation service on 127.0.0.1 whose answer the test sets. */
async function startModerationService() {
  let behaviour: Behaviour = 'allow';
  const received: { prompt: string; negative_prompt: string | null }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      switch (behaviour) {
        case 'allow':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ flagged: false }));
          return;
        case 'flag':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ flagged: true, reason: 'violence' }));
          return;
        case 'error':
          res.writeHead(500).end('boom');
          return;
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
          return;
        case 'hang':
          return; // never answers
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/moderate`,
    received,
    set(next: Behaviour) {
      behaviour = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const JOB = { width: 64, height: 64, steps: 1 } as const;

describe('moderation: blocklist from the config file, then an external check (fail closed)', () => {
  let t: InjectServer;
  let configDir: { dir: string; remove: () => Promise<void> };
  let service: Awaited<ReturnType<typeof startModerationService>>;
  let user: ApiClient;

  beforeAll(async () => {
    service = await startModerationService();
    configDir = await makeTempDir('atelier-moderation-config-');
    const configPath = await writeConfigFile(configDir.dir, { moderation: { blocklist: ['forbidden thing', 'gore'] } });
    t = await startInjectServer({ ATELIER_CONFIG: configPath, MODERATION_URL: service.url, MODERATION_TIMEOUT_MS: '200' });
    user = apiClient(t, (await t.addUser('writer')).token);
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
    await configDir?.remove();
  });

  async function total(): Promise<number> {
    return (await user.get('/api/images/history/?perPage=100')).body.total;
  }

  it('refuses a blocklisted phrase in the prompt whatever its case and spacing, without naming it', async () => {
    service.set('allow');
    const calls = service.received.length;
    const res = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'a FORBIDDEN   thing here' });
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code: 'prompt_refused', field: 'prompt' });
    expect(res.body.message.toLowerCase()).not.toContain('forbidden');
    expect(res.body.message.toLowerCase()).not.toContain('thing');
    expect(res.text.toLowerCase()).not.toContain('forbidden');
    // The blocklist answers first: the external service is never asked.
    expect(service.received.length).toBe(calls);
    for (const prompt of ['forbidden-thing', 'Forbidden_Thing!', 'a forbiddenthing', 'f o r b i d d e n t h i n g']) {
      const again = await user.post('/api/generate/text-to-image', { ...JOB, prompt });
      expect(again.status, prompt).toBe(422);
      expect(again.body.code, prompt).toBe('prompt_refused');
    }
  });

  it('checks the negative prompt too (field negative_prompt)', async () => {
    const res = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'a calm lake', negative_prompt: 'blurry, Gore, text' });
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code: 'prompt_refused', field: 'negative_prompt' });
    expect(res.body.message.toLowerCase()).not.toContain('gore');
  });

  it('matches whole words only: no substring false positives', async () => {
    service.set('allow');
    for (const prompt of ['a category of birds', 'an Edward Gorey illustration', 'a thing that is forbidden']) {
      const res = await user.post('/api/generate/text-to-image', { ...JOB, prompt, seed: 1 });
      expect(res.status, `${prompt}: ${res.text}`).toBe(202);
      expect((await user.waitFor(res.body.runId)).status).toBe('succeeded');
    }
  });

  it('records nothing for a refused job and counts it in atelier_moderation_refused_total', async () => {
    const before = await metricsText(t);
    const refusedBefore = metricValue(before, 'atelier_moderation_refused_total{source="blocklist"}');
    const submittedBefore = metricSum(before, 'atelier_jobs_submitted_total');
    const imagesBefore = await total();

    for (const body of [{ prompt: 'gore' }, { prompt: 'ok', negative_prompt: 'forbidden thing' }]) {
      const res = await user.post('/api/generate/text-to-image', { ...JOB, ...body });
      expect(res.status).toBe(422);
    }
    // Also refused on image-to-image before its reference is even looked at, and on OpenAI's route.
    const i2i = await user.post('/api/generate/image-to-image', { prompt: 'gore', reference_image: { upload_id: 'nonexistent' } });
    expect(i2i.status).toBe(422);
    expect(i2i.body.code).toBe('prompt_refused');
    const openai = await user.post('/v1/images/generations', { prompt: 'some GORE', size: '64x64', steps: 1 });
    expect(openai.status).toBe(422);
    expect(openai.body.error).toMatchObject({ code: 'prompt_refused', param: 'prompt', type: 'invalid_request_error' });

    const after = await metricsText(t);
    expect(metricValue(after, 'atelier_moderation_refused_total{source="blocklist"}')).toBe(refusedBefore + 4);
    expect(metricSum(after, 'atelier_jobs_submitted_total')).toBe(submittedBefore);
    expect(await total()).toBe(imagesBefore);
    const metrics = await apiClient(t, t.adminToken).get('/api/admin/metrics');
    expect(metrics.body.moderationRefusals).toBeGreaterThanOrEqual(refusedBefore + 4);
  });

  it('refuses what the external service flags, passing its reason, and accepts what it clears', async () => {
    service.set('flag');
    const flagged = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'a harmless-looking request', negative_prompt: 'blur' });
    expect(flagged.status, flagged.text).toBe(422);
    expect(flagged.body).toMatchObject({ code: 'prompt_refused', field: 'prompt', reason: 'violence' });
    expect(service.received.at(-1)).toEqual({ prompt: 'a harmless-looking request', negative_prompt: 'blur' });

    service.set('allow');
    const cleared = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'a harmless-looking request', negative_prompt: 'blur' });
    expect(cleared.status, cleared.text).toBe(202);
    expect((await user.waitFor(cleared.body.runId)).status).toBe('succeeded');
    expect(metricValue(await metricsText(t), 'atelier_moderation_refused_total{source="external"}')).toBeGreaterThanOrEqual(1);
  });

  it('fails closed: a service that never answers (MODERATION_TIMEOUT_MS=200) → 503 moderation_unavailable', async () => {
    service.set('hang');
    const imagesBefore = await total();
    const started = Date.now();
    const res = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'waiting for a verdict' });
    const took = Date.now() - started;
    expect(res.status, res.text).toBe(503);
    expect(res.body.code).toBe('moderation_unavailable');
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(5_000);
    expect(await total()).toBe(imagesBefore);
    expect(metricValue(await metricsText(t), 'atelier_moderation_refused_total{source="unavailable"}')).toBeGreaterThanOrEqual(1);
  });

  it('fails closed on an HTTP error or an answer without a boolean "flagged"', async () => {
    for (const behaviour of ['error', 'garbage'] as const) {
      service.set(behaviour);
      const res = await user.post('/api/generate/text-to-image', { ...JOB, prompt: `a ${behaviour} verdict` });
      expect(res.status, behaviour).toBe(503);
      expect(res.body.code, behaviour).toBe('moderation_unavailable');
    }
    service.set('allow');
  });
});

describe('moderation: external check with MODERATION_FAIL_OPEN=true', () => {
  let t: InjectServer;
  let service: Awaited<ReturnType<typeof startModerationService>>;
  beforeAll(async () => {
    service = await startModerationService();
    t = await startInjectServer({ MODERATION_URL: service.url, MODERATION_TIMEOUT_MS: '200', MODERATION_FAIL_OPEN: 'true' });
  });
  afterAll(async () => {
    await t?.close();
    await service?.close();
  });

  it('lets the job through when the service never answers, but still refuses what it flags', async () => {
    const user = apiClient(t, (await t.addUser('hopeful')).token);
    service.set('hang');
    const res = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'unchecked but allowed' });
    expect(res.status, res.text).toBe(202);
    expect((await user.waitFor(res.body.runId)).status).toBe('succeeded');
    expect(service.received.length).toBeGreaterThanOrEqual(1);

    service.set('flag');
    const flagged = await user.post('/api/generate/text-to-image', { ...JOB, prompt: 'flagged anyway' });
    expect(flagged.status).toBe(422);
    expect(flagged.body.code).toBe('prompt_refused');
  });
});
