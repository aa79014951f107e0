import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_PROTOCOL_VERSION } from '../../src/api/schemas/worker-protocol.js';
import type { Backend } from '../../src/backends/backend.js';
import { createBuiltinBackend } from '../../src/backends/builtin/builtin-backend.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { createReferenceWorker } from '../../src/reference-worker/reference-worker.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { addWorker, remoteConfig, workerClient, type Claimed, type WorkerClient } from './worker-helpers.js';

/** A remote model that declares LoRAs and carries backend settings for the workers' local backend. */
const LORA_MODEL = 'sdxl-anime-remote';
const BACKEND_SETTINGS = { checkpoint: 'anime.safetensors', vae: 'sdxl_vae.safetensors', loras: [{ name: 'house-style', weight: 0.8 }], clipSkip: 2 };

describe('worker protocol versions, LoRAs and backend settings in claims', () => {
  let t: TestServer;
  let user: ApiClient;
  let token: string;
  let worker: WorkerClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const tmp = await makeTempDir('atelier-protocol-config-');
    cleanup = tmp.remove;
    const config = remoteConfig();
    (config.models as Record<string, unknown>[]).push({
      name: LORA_MODEL,
      backend: 'gpu',
      label: 'SDXL anime on remote workers',
      modes: ['t2i'],
      baseResolution: 1024,
      defaultSteps: 4,
      defaultCfgScale: 7,
      defaultSampler: 'Euler',
      loras: ['add_detail', 'film-grain'],
      backendSettings: BACKEND_SETTINGS,
    });
    // One attempt, so a job an old worker cannot run fails at once and says why.
    t = await startTestServer({ ATELIER_CONFIG: await writeConfigFile(tmp.dir, config), MAX_ATTEMPTS: '1' });
    user = apiClient(t, t.adminToken);
    token = await addWorker(t, 'versioned-worker');
    worker = workerClient(t, token);
  });
  afterAll(async () => {
    await t?.close();
    await cleanup?.();
  });

  const submitLoraJob = async () =>
    (await user.submit({ prompt: 'a quiet pier', model: LORA_MODEL, width: 96, height: 64, steps: 3, seed: 8, loras: [{ name: 'add_detail', weight: 0.6 }] })).runId as string;

  it('hands a 1.1 worker the protocol version, the LoRAs and the model backend settings in the claim', async () => {
    const runId = await submitLoraJob();
    const claimed = (await worker.claimJob({ wait_seconds: 10, protocol_version: WORKER_PROTOCOL_VERSION })) as Claimed & { protocol_version: string };
    expect(claimed.job_id).toBe(runId);
    expect(claimed.protocol_version).toBe('1.1');
    expect(claimed.spec.loras).toEqual([{ name: 'add_detail', weight: 0.6 }]);
    expect(claimed.spec.backendSettings).toEqual(BACKEND_SETTINGS);
    expect(claimed.spec.prompt).toBe('a quiet pier');
    await worker.complete(claimed.job_id, { lease_token: claimed.lease_token, status: 'failed', error_message: 'not rendering in this test', retryable: false });
  });

  it.each(['2.0', '0.9'])('refuses a worker speaking protocol %s with a 422 naming the supported major', async (version) => {
    const res = await worker.claim({ wait_seconds: 0, protocol_version: version });
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ code: 'worker_protocol_unsupported', field: 'protocol_version', supported: '1.x', server: '1.1' });
    expect(res.body.message).toContain(`speaks ${version}`);
  });

  it('refuses a malformed version through the schema', async () => {
    expect(await worker.claim({ wait_seconds: 0, protocol_version: 'one' })).toMatchObject({ status: 422, body: { code: 'invalid_parameter', field: 'protocol_version' } });
  });

  it('serves an unversioned (1.0) worker plain jobs, but fails a LoRA job rather than let it render without them', async () => {
    const plain = (await user.submit({ prompt: 'a plain pier', model: 'sdxl-remote', width: 96, height: 64, steps: 3, seed: 9 })).runId as string;
    const claimed = (await worker.claimJob({ wait_seconds: 10 })) as Claimed & { protocol_version: string };
    expect([claimed.job_id, claimed.protocol_version]).toEqual([plain, '1.1']);
    await worker.complete(claimed.job_id, { lease_token: claimed.lease_token, status: 'failed', error_message: 'not rendering in this test', retryable: false });

    const runId = await submitLoraJob();
    expect((await worker.claim({ wait_seconds: 1, protocol_version: '1.0' })).status).toBe(204);
    const run = await user.waitFor(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'capability_unsupported' });
    expect(run.error.message).toContain('need worker protocol 1.1; the worker speaks 1.0');
  });

  it('the reference worker states its version and passes the LoRAs and backend settings to its local backend', async () => {
    const seen: JobSpec[] = [];
    const builtin = createBuiltinBackend();
    // The preview renderer has no checkpoint to load: record the spec, render without the settings.
    const recording: Backend = { ...builtin, generate: (spec, ctx) => (seen.push(spec), builtin.generate({ ...spec, backendSettings: undefined }, ctx)) };
    const logs: string[] = [];
    const reference = createReferenceWorker({ server: t.url, token, backend: recording, waitSeconds: 1, retry: { baseMs: 50, maxMs: 200 }, log: (line) => logs.push(line) });
    const working = reference.run();
    try {
      const runId = await submitLoraJob();
      const run = await user.waitFor(runId);
      expect(run.status, `${JSON.stringify(run.error)}\n${logs.join('\n')}`).toBe('succeeded');
      expect(seen.map((spec) => [spec.loras, spec.backendSettings])).toEqual([[[{ name: 'add_detail', weight: 0.6 }], BACKEND_SETTINGS]]);
      // The server records what was applied: the model's LoRA, then the request's.
      expect(run.assets[0].metadata).toMatchObject({
        loras: [{ name: 'house-style', weight: 0.8 }, { name: 'add_detail', weight: 0.6 }],
        backend_settings: { checkpoint: 'anime.safetensors', vae: 'sdxl_vae.safetensors', clip_skip: 2 },
      });
    } finally {
      await reference.shutdown(1_000);
      await working;
    }
  });
});
