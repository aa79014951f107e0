import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { defaultModels, structuredPng, uploadBytes, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const REMOTE = { backend: 'gpu', label: 'SD on remote workers', modes: ['t2i', 'i2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' };

describe('hires_fix: applied or refused, never charged for nothing', () => {
  let t: InjectServer;
  let configDir: { dir: string; remove: () => Promise<void> };
  let api: ApiClient;
  let token: string;

  beforeAll(async () => {
    configDir = await makeTempDir('atelier-hires-config-');
    const config = {
      backends: { builtin: { type: 'builtin' }, gpu: { type: 'remote' }, 'gpu-hr': { type: 'remote', hiresFix: true } },
      models: [...defaultModels(), { ...REMOTE, name: 'remote-sd' }, { ...REMOTE, name: 'remote-hr', backend: 'gpu-hr' }],
    };
    t = await startInjectServer({ ATELIER_CONFIG: await writeConfigFile(configDir.dir, config) });
    token = (await t.addUser('hires')).token;
    api = apiClient(t, token);
  });
  afterAll(async () => {
    await t?.close();
    await configDir?.remove();
  });

  it('GET /api/models says which models run it', async () => {
    const { models } = (await api.get('/api/models')).body as { models: { name: string; capabilities: { hiresFix: boolean } }[] };
    const hires = Object.fromEntries(models.map((m) => [m.name, m.capabilities.hiresFix]));
    expect(hires).toMatchObject({ preview: true, 'remote-sd': false, 'remote-hr': true });
  });

  it('the preview renderer runs it: a second pass in the progress, and a hires line in the cost', async () => {
    const submitted = await api.submit({ prompt: 'a harbour at dawn', width: 256, height: 192, steps: 3, seed: 5, hires_fix: true });
    expect(submitted.parameters.hiresFix).toBe(true);
    expect(submitted.cost.breakdown.hiresFix).toBeGreaterThan(0);
    const done = await api.waitFor(submitted.runId);
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ step: 6, totalSteps: 6 });
    const plain = await api.submit({ prompt: 'a harbour at dawn', width: 256, height: 192, steps: 3, seed: 5 });
    expect(plain.cost.breakdown.hiresFix).toBe(0);
    expect(plain.cost.amount).toBeLessThan(submitted.cost.amount);
  });

  it('a backend without a second pass is a 422 parameter_unsupported before anything is queued', async () => {
    const res = await api.post('/api/generate/text-to-image', { model: 'remote-sd', prompt: 'a harbour', hires_fix: true });
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code: 'parameter_unsupported', field: 'hires_fix' });
    expect(res.body.message).toContain("Model 'remote-sd' cannot run hires fix");
    // hires_fix: false is simply no hires fix.
    const off = await api.post('/api/generate/text-to-image', { model: 'remote-sd', prompt: 'a harbour', hires_fix: false });
    expect(off.status, off.text).toBe(202);
    expect(off.body.cost.breakdown.hiresFix).toBe(0);
    // A remote backend that declares hiresFix takes it.
    const declared = await api.post('/api/generate/text-to-image', { model: 'remote-hr', prompt: 'a harbour', hires_fix: true });
    expect(declared.status, declared.text).toBe(202);
    for (const run of [off.body, declared.body]) await api.post(`/api/runs/${run.runId}/cancel`);
  });

  it('image-to-image is refused too: hires fix is a text-to-image pass', async () => {
    const uploadId = await uploadBytes(t, token, await structuredPng(128, 128));
    const res = await api.post('/api/generate/image-to-image', { prompt: 'x', reference_image: { upload_id: uploadId }, hires_fix: true });
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code: 'parameter_unsupported', field: 'hires_fix' });
  });

  it('POST /api/estimate prices it only where it runs, and refuses it where it cannot', async () => {
    const body = { width: 512, height: 512, steps: 10, hires_fix: true };
    const priced = await api.post('/api/estimate', { ...body, model: 'preview' });
    expect(priced.status, priced.text).toBe(200);
    expect(priced.body.breakdown.hiresFix).toBeGreaterThan(0);
    for (const refused of [{ ...body, model: 'remote-sd' }, { ...body, model: 'preview', mode: 'i2i' }]) {
      const res = await api.post('/api/estimate', refused);
      expect(res.status, res.text).toBe(422);
      expect(res.body.code).toBe('parameter_unsupported');
    }
  });
});
