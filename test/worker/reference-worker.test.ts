import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, download, type ApiClient } from '../helpers/api.js';
import { childEnv, CLI_PATH, REPO_ROOT } from '../helpers/spawn-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { addWorker, REMOTE_IMAGE_MODEL, startRemoteServer, waitUntil, workerClient } from './worker-helpers.js';

interface SpawnedWorker {
  readonly process: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const spawned = new Set<ChildProcess>();

/** `node dist/src/cli/main.js worker …` (the built CLI, as `npm test` builds it). */
function spawnWorker(server: string, token: string, extra: string[] = []): SpawnedWorker {
  const child = spawn(process.execPath, [CLI_PATH, 'worker', '--server', server, '--token', token, '--backend', 'builtin', ...extra], {
    cwd: REPO_ROOT,
    env: childEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      spawned.delete(child);
      resolve({ code, signal });
    }),
  );
  return { process: child, output: () => out, exited };
}

/**
 * A pass-through HTTP proxy in front of the server that remembers every job it saw claimed,
 * so the test knows the lease token of a worker it is about to kill.
 */
async function startRecordingProxy(target: string): Promise<{ url: string; claims: any[]; close(): Promise<void> }> {
  const claims: any[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
          const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
          const response = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(body && req.method !== 'GET' ? { body: new Uint8Array(body) } : {}) });
          const bytes = Buffer.from(await response.arrayBuffer());
          if (req.url === '/api/worker/claim' && response.status === 200) claims.push(JSON.parse(bytes.toString('utf8')));
          res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(bytes);
        } catch {
          res.writeHead(502).end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    claims,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('atelier worker (reference worker) against a real server', () => {
  let t: TestServer;
  let user: ApiClient;
  let token: string;

  beforeAll(async () => {
    t = await startRemoteServer({ LEASE_SECONDS: '1', BACKOFF_BASE_MS: '100', BACKOFF_MAX_MS: '500' });
    user = apiClient(t, t.adminToken);
    token = await addWorker(t, 'reference-worker');
  });
  afterAll(async () => {
    for (const child of spawned) child.kill('SIGKILL');
    await t?.close();
  });

  it('runs submitted jobs to success with thumbnails and variants, then exits cleanly on SIGTERM', { timeout: 90_000 }, async () => {
    const worker = spawnWorker(t.url, token, ['--concurrency', '2']);
    try {
      const runs = [];
      for (const seed of [1, 2, 3]) runs.push((await user.submit({ prompt: `a harbour at dawn, take ${seed}`, model: REMOTE_IMAGE_MODEL, width: 320, height: 256, steps: 6, seed, num_images: 2 })).runId);
      for (const runId of runs) {
        const run = await user.waitFor(runId, undefined, 30_000);
        expect(run.status, `${runId}: ${JSON.stringify(run.error)}\n${worker.output()}`).toBe('succeeded');
        expect(run.assets).toHaveLength(2);
        for (const asset of run.assets) {
          expect(asset.thumbnailUrl).toBeTruthy();
          expect(asset.variants).toHaveLength(2);
          expect(asset.metadata).toMatchObject({ width: 320, height: 256, steps: 6, asset_index: asset.index });
          const png = await download(asset.url);
          expect((await sharp(png.bytes).metadata()).comments?.find((c) => c.keyword === 'parameters')?.text).toContain('a harbour at dawn');
        }
        expect(run.progress).toMatchObject({ step: 12, totalSteps: 12 });
      }
      // The same seed renders the same bytes remotely as the built-in renderer does locally.
      const local = await user.generate({ prompt: 'a harbour at dawn, take 1', width: 320, height: 256, steps: 6, seed: 1, num_images: 2, cfg_scale: 7 });
      const remote = (await user.status(runs[0])).body;
      expect((await download(remote.assets[0].url)).bytes.equals((await download(local.assets[0].url)).bytes)).toBe(false); // model label differs in the PNG text…
      const rawRemote = await sharp((await download(remote.assets[0].url)).bytes).raw().toBuffer();
      const rawLocal = await sharp((await download(local.assets[0].url)).bytes).raw().toBuffer();
      expect(rawRemote.equals(rawLocal)).toBe(true); // …but the pixels are the same.
      expect(worker.output()).toMatch(/worker 'reference-worker' serving gpu/);
      expect(worker.output().match(/: succeeded/g)).toHaveLength(3);
    } finally {
      worker.process.kill('SIGTERM');
    }
    const exit = await worker.exited;
    expect(exit, worker.output()).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('stopped (3 job(s) completed');
    expect(worker.output()).not.toContain(token);
  });

  it('survives kill -9 mid-job: the lease expires, a second worker finishes, the killed worker is refused', { timeout: 120_000 }, async () => {
    const proxy = await startRecordingProxy(t.url);
    const doomed = spawnWorker(proxy.url, token);
    let rescuer: SpawnedWorker | undefined;
    try {
      const runId = (await user.submit({ prompt: 'a very detailed cathedral', model: REMOTE_IMAGE_MODEL, width: 1024, height: 1024, steps: 150, seed: 7, num_images: 4 })).runId as string;
      // Mid-job: claimed and reporting progress.
      await waitUntil('the first worker to report progress', async () => {
        const run = (await user.status(runId)).body;
        return run.status === 'running' && run.progress.step > 0;
      }, 20_000);
      doomed.process.kill('SIGKILL');
      await doomed.exited;
      const stale = proxy.claims.find((c) => c.job_id === runId);
      expect(stale).toMatchObject({ attempt: 1 });

      const requeued = await user.waitFor(runId, (run) => run.status === 'queued', 10_000);
      expect(requeued.error).toMatchObject({ code: 'lease_expired' });

      rescuer = spawnWorker(t.url, token);
      const run = await user.waitFor(runId, undefined, 60_000);
      expect(run.status, `${JSON.stringify(run.error)}\n${rescuer.output()}`).toBe('succeeded');
      expect(run.attempts).toBe(2);
      expect(run.assets).toHaveLength(4);

      // The killed worker's late callback (as if its last packets arrived now) is refused.
      const late = workerClient(t, token);
      const keys = [0, 1, 2, 3].map((i) => `worker-uploads/${runId}/1/${i}.png`);
      const refused = await late.complete(runId, { job_id: runId, lease_token: stale.lease_token, status: 'completed', assets: keys.map((url) => ({ type: 'image', url, thumbnail_url: null, metadata: {} })), error_message: null, metadata: {} });
      expect(refused).toMatchObject({ status: 409, body: { code: 'lease_lost', job_status: 'succeeded' } });
      expect((await late.heartbeat(runId, { lease_token: stale.lease_token })).status).toBe(409);
      const after = (await user.status(runId)).body;
      expect(after.assets.map((a: any) => a.id).sort()).toEqual(run.assets.map((a: any) => a.id).sort());
    } finally {
      doomed.process.kill('SIGKILL');
      rescuer?.process.kill('SIGTERM');
      await rescuer?.exited;
      await proxy.close();
    }
  });

  it('gives a job back at once when stopped without grace, so another worker runs it', { timeout: 90_000 }, async () => {
    const quitter = spawnWorker(t.url, token, ['--grace-seconds', '0']);
    let rescuer: SpawnedWorker | undefined;
    try {
      const runId = (await user.submit({ prompt: 'a slow render', model: REMOTE_IMAGE_MODEL, width: 1024, height: 1024, steps: 150, seed: 9, num_images: 4 })).runId as string;
      await waitUntil('the worker to start rendering', async () => (await user.status(runId)).body.progress.step > 0, 20_000);
      quitter.process.kill('SIGTERM');
      expect(await quitter.exited).toEqual({ code: 0, signal: null });
      expect(quitter.output()).toContain('given back');
      const requeued = (await user.status(runId)).body;
      expect(requeued).toMatchObject({ status: 'queued', error: { code: 'backend_failed', message: 'The worker shut down before finishing the job' } });

      rescuer = spawnWorker(t.url, token);
      const run = await user.waitFor(runId, undefined, 60_000);
      expect(run).toMatchObject({ status: 'succeeded', attempts: 2 });
    } finally {
      quitter.process.kill('SIGKILL');
      rescuer?.process.kill('SIGTERM');
      await rescuer?.exited;
    }
  });

  it('keeps trying while the server is unreachable and refuses a bad token at once', { timeout: 90_000 }, async () => {
    const unreachable = spawnWorker('http://127.0.0.1:9', token);
    await waitUntil('a retry message', async () => /retrying in/.test(unreachable.output()), 10_000);
    unreachable.process.kill('SIGTERM');
    expect((await unreachable.exited).code).toBe(0);

    const bad = spawnWorker(t.url, 'atw_this-token-was-never-issued-xxxxxxxxxxxx');
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toMatch(/401|not valid/);
    const userToken = spawnWorker(t.url, t.adminToken);
    expect((await userToken.exited).code).toBe(64);
  });
});
