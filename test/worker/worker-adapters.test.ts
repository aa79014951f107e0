import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startFakeA1111 } from '../helpers/fake-a1111.js';
import { startFakeComfyUI } from '../helpers/fake-comfyui/fake-comfyui.js';
import { childEnv, CLI_PATH, REPO_ROOT } from '../helpers/spawn-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { addWorker, REMOTE_IMAGE_MODEL, startRemoteServer } from './worker-helpers.js';

/**
 * `atelier worker --backend comfyui|a1111` bridges a local ComfyUI / AUTOMATIC1111 (here the
 * protocol fakes) to the server: jobs of the remote model run there and come back as assets.
 */
describe('atelier worker bridging a local ComfyUI or A1111', () => {
  let t: TestServer;
  let user: ApiClient;
  let token: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await startRemoteServer({ LEASE_SECONDS: '2' });
    user = apiClient(t, t.adminToken);
    token = await addWorker(t, 'bridge');
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await t?.close();
  });

  for (const kind of ['comfyui', 'a1111'] as const) {
    it(`renders a batch through ${kind}`, async () => {
      const fake = kind === 'comfyui' ? await startFakeComfyUI() : await startFakeA1111();
      let output = '';
      const child = spawn(process.execPath, [CLI_PATH, 'worker', '--server', t.url, '--token', token, '--backend', kind, '--url', fake.url], { cwd: REPO_ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        const run = await user.submit({ prompt: `through ${kind}`, model: REMOTE_IMAGE_MODEL, width: 256, height: 256, steps: 4, seed: 21, num_images: 2 });
        const done = await user.waitFor(run.runId, undefined, 25_000);
        expect(done.status, `${JSON.stringify(done.error)}\n${output}`).toBe('succeeded');
        expect(done.assets).toHaveLength(2);
        for (const asset of done.assets) {
          expect(asset.thumbnailUrl).toBeTruthy();
          expect(asset.metadata).toMatchObject({ width: 256, height: 256, format: 'png', asset_index: asset.index });
        }
        expect(done.assets.map((a: any) => a.metadata.seed).sort()).toEqual([21, 22]);
        const received = 'prompts' in fake ? fake.prompts.length : fake.generations().length;
        expect(received).toBeGreaterThan(0);
      } finally {
        child.kill('SIGTERM');
        await exited;
        await fake.close();
      }
    });
  }
});
