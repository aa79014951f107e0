import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, collectEvents, download, type ApiClient } from '../helpers/api.js';
import { startFakeA1111, type FakeA1111 } from '../helpers/fake-a1111.js';
import { startFakeComfyUI, type FakeComfyUI } from '../helpers/fake-comfyui/fake-comfyui.js';
import { defaultModels, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * The server with real network backends: models routed to two ComfyUI instances (one of
 * which fails) and to AUTOMATIC1111, all local servers speaking the real protocols.
 */
describe('models on ComfyUI and AUTOMATIC1111 backends', () => {
  let comfyA: FakeComfyUI;
  let comfyB: FakeComfyUI;
  let a1111: FakeA1111;
  let t: TestServer;
  let api: ApiClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    [comfyA, comfyB, a1111] = await Promise.all([startFakeComfyUI({ stepDelayMs: 5 }), startFakeComfyUI({ stepDelayMs: 5 }), startFakeA1111({ stepDelayMs: 5 })]);
    const tmp = await makeTempDir('atelier-net-config-');
    cleanup = tmp.remove;
    const base = { baseResolution: 512, defaultSteps: 6, defaultCfgScale: 7, defaultSampler: 'Euler' };
    const file = await writeConfigFile(tmp.dir, {
      backends: {
        builtin: { type: 'builtin' },
        comfy: { type: 'comfyui', urls: [comfyA.url, comfyB.url], failureThreshold: 1, cooldownSeconds: 60, healthIntervalSeconds: 60 },
        forge: { type: 'a1111', urls: [a1111.url], healthIntervalSeconds: 60 },
      },
      models: [
        ...defaultModels(),
        { name: 'sd15-comfy', backend: 'comfy', label: 'SD 1.5 on ComfyUI', modes: ['t2i', 'i2i'], ...base },
        { name: 'sd15-forge', backend: 'forge', label: 'SD 1.5 on Forge', modes: ['t2i', 'i2i'], ...base },
      ],
    });
    // A socket: the ComfyUI test reads progress and live previews from the SSE stream as they arrive.
    t = await startTestServer({ ATELIER_CONFIG: file });
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([comfyA?.close(), comfyB?.close(), a1111?.close()]);
    await cleanup?.();
  });

  it('runs a text-to-image job on ComfyUI with progress and live previews over SSE', async () => {
    const res = await api.post('/api/generate/text-to-image', { model: 'sd15-comfy', prompt: 'a "quoted" {castle}', width: 512, height: 512, steps: 6, seed: 77 });
    expect(res.status, res.text).toBe(202);
    const events = await collectEvents(await api.openStream(res.body.runId));
    const types = events.map((e) => e.event);
    expect(types.at(-1)).toBe('succeeded');
    expect(types).toContain('progress');
    const preview = events.find((e) => e.event === 'preview');
    expect(preview, types.join(',')).toBeDefined();
    expect(preview!.id).toBeUndefined();
    expect(JSON.parse(preview!.data).image).toMatch(/^data:image\/(jpeg|png);base64,/);
    const run = (await api.status(res.body.runId)).body;
    expect(run.backend.kind).toBe('comfyui');
    const png = await download(run.assets[0].url);
    expect((await sharp(png.bytes).metadata()).width).toBe(512);
    const graph = [...comfyA.prompts, ...comfyB.prompts].at(-1)!.prompt as Record<string, { inputs: Record<string, unknown> }>;
    expect(JSON.stringify(graph)).toContain('a \\"quoted\\" {castle}');
    expect(Object.values(graph).some((node) => node.inputs.seed === 77)).toBe(true);
  });

  it('fails over to the other ComfyUI instance when one answers 500', async () => {
    // Both idle: the first instance gets the job, fails, and the router retries it on the
    // other within the same attempt.
    comfyA.failNextPrompt(500);
    const run = await api.generate({ model: 'sd15-comfy', prompt: 'failover', width: 512, height: 512, steps: 3, seed: 5 });
    expect(run.status).toBe('succeeded');
    expect(run.attempts).toBe(1);
  });

  it('runs on AUTOMATIC1111 and records the backend’s seed', async () => {
    const run = await api.generate({ model: 'sd15-forge', prompt: 'a harbour', width: 512, height: 512, steps: 4, seed: 1234, num_images: 2 });
    expect(run.backend.kind).toBe('a1111');
    expect(run.assets.map((a: any) => a.metadata.seed)).toEqual([1234, 1235]);
    const sent = a1111.generations().at(-1)!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ prompt: 'a harbour', seed: 1234, steps: 4, width: 512, height: 512, batch_size: 2 });
  });

  it('refuses what a model cannot do with a 422 before queueing', async () => {
    const res = await api.post('/api/generate/text-to-video', { model: 'sd15-comfy', prompt: 'x' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('capability_unsupported');
    expect(comfyA.prompts.length + comfyB.prompts.length).toBeLessThan(10);
  });
});
