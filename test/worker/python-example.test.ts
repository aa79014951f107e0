import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, download, type ApiClient } from '../helpers/api.js';
import { uploadBytes } from '../helpers/server-extras.js';
import { scenePng } from '../helpers/synthetic-images.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { TestServer } from '../helpers/test-server.js';
import { addWorker, REMOTE_IMAGE_MODEL, startRemoteServer, waitUntil } from './worker-helpers.js';

/** The Python worker listed in docs/worker-protocol.md, exactly as documented. */
function documentedPythonWorker(): string {
  const doc = readFileSync(new URL('../../docs/worker-protocol.md', import.meta.url), 'utf8');
  const match = /## A complete worker in Python[\s\S]*?```python\n([\s\S]*?)```/.exec(doc);
  if (!match) throw new Error('docs/worker-protocol.md has no Python listing');
  return match[1]!;
}

const hasPython = spawnSync('python3', ['-c', 'import requests'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasPython)('the documented Python worker', () => {
  let t: TestServer;
  let user: ApiClient;
  let child: ChildProcess | undefined;
  let output = '';
  let tmp: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    t = await startRemoteServer({ LEASE_SECONDS: '1', BACKOFF_BASE_MS: '100', BACKOFF_MAX_MS: '500' });
    user = apiClient(t, t.adminToken);
    tmp = await makeTempDir('atelier-python-worker-');
    const script = join(tmp.dir, 'worker.py');
    await writeFile(script, documentedPythonWorker());
    child = spawn('python3', [script], {
      env: { ...process.env, ATELIER_SERVER: t.url, ATELIER_WORKER_TOKEN: await addWorker(t, 'python-example'), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await t?.close();
    await tmp?.remove();
  });

  it('runs text-to-image and image-to-image jobs to success', async () => {
    const batch = await user.submit({ prompt: 'a python drew this', model: REMOTE_IMAGE_MODEL, width: 192, height: 128, steps: 5, seed: 10, num_images: 2 });
    const reference = await uploadBytes(t, t.adminToken, await scenePng(4, 160, 120));
    const i2i = await user.post('/api/generate/image-to-image', { prompt: 'repainted', model: REMOTE_IMAGE_MODEL, reference_image: { upload_id: reference }, steps: 4, seed: 1 });
    expect(i2i.status, i2i.text).toBe(202);
    for (const runId of [batch.runId, i2i.body.runId]) {
      const run = await user.waitFor(runId, undefined, 20_000);
      expect(run.status, `${JSON.stringify(run.error)}\n${output}`).toBe('succeeded');
      for (const asset of run.assets) {
        expect(asset.thumbnailUrl).toBeTruthy();
        expect(asset.variants).toHaveLength(2);
        const png = await download(asset.url);
        expect((await sharp(png.bytes).metadata()).comments?.find((c) => c.keyword === 'parameters')?.text).toContain(run.parameters.prompt);
      }
    }
    expect((await user.status(batch.runId)).body.assets.map((a: any) => a.metadata.seed)).toEqual([10, 11]);
  });

  it('stops a job that is canceled while it renders', async () => {
    const run = await user.submit({ prompt: 'a long one', model: REMOTE_IMAGE_MODEL, width: 64, height: 64, steps: 150, seed: 2 });
    await waitUntil('the worker to report progress', async () => (await user.status(run.runId)).body.progress.step > 0, 20_000);
    expect((await user.post(`/api/runs/${run.runId}/cancel`)).body.status).toBe('canceled');
    await waitUntil('the worker to drop the job', async () => output.includes(`${run.runId}: canceled or lease lost, dropped`), 10_000);
    // And it takes the next job.
    const next = await user.submit({ prompt: 'after the cancel', model: REMOTE_IMAGE_MODEL, width: 64, height: 64, steps: 2, seed: 3 });
    expect((await user.waitFor(next.runId, undefined, 20_000)).status).toBe('succeeded');
  });
});
