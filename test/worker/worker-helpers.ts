/**
 * Helpers for the remote-worker tests: a server whose configuration has a remote backend
 * (`gpu`) with an image model and a video model, a worker-token factory, and a minimal worker
 * that speaks the protocol with plain fetch.
 */
import { join } from 'node:path';
import { createDiskStorage } from '../../src/storage/disk/disk-storage.js';
import { WORKER_UPLOADS } from '../../src/storage/keys.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { apiClient, readResponse, type ApiResponse } from '../helpers/api.js';
import { defaultModels, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, startTestServer, type InjectServer, type ServerUnderTest, type TestServer } from '../helpers/test-server.js';

export const REMOTE_IMAGE_MODEL = 'sdxl-remote';
export const REMOTE_VIDEO_MODEL = 'wan-remote';

/** The configuration file of a server with a remote backend `gpu` beside the built-in one. */
export function remoteConfig(): Record<string, unknown> {
  return {
    backends: {
      builtin: { type: 'builtin' },
      gpu: { type: 'remote', label: 'Studio GPU (remote workers)', modes: ['t2i', 'i2i', 't2v'], samplers: ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDIM'], maxBatch: 8 },
    },
    models: [
      ...defaultModels(),
      { name: REMOTE_IMAGE_MODEL, backend: 'gpu', label: 'SDXL on remote workers', modes: ['t2i', 'i2i'], baseResolution: 1024, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' },
      {
        name: REMOTE_VIDEO_MODEL,
        backend: 'gpu',
        label: 'WAN on remote workers',
        modes: ['t2v'],
        baseResolution: 640,
        defaultSteps: 10,
        defaultCfgScale: 5,
        defaultSampler: 'Euler',
        defaultAspectRatio: '16:9',
        defaultFps: 8,
        defaultFrames: 8,
        maxFrames: 64,
      },
    ],
  };
}

/** A real server with the remote backend; `env` as for startTestServer. */
export async function startRemoteServer(env: Record<string, string> = {}): Promise<TestServer & { configDir: string }> {
  const dir = await makeTempDir('atelier-worker-config-');
  const configPath = await writeConfigFile(dir.dir, remoteConfig());
  const t = await startTestServer({ ATELIER_CONFIG: configPath, ...env });
  return {
    ...t,
    configDir: dir.dir,
    async close() {
      await t.close();
      await dir.remove();
    },
  };
}

/** The same server without a socket: requests go through `app.inject()` (apiClient). */
export async function startRemoteInjectServer(env: Record<string, string> = {}): Promise<InjectServer> {
  const dir = await makeTempDir('atelier-worker-config-');
  const configPath = await writeConfigFile(dir.dir, remoteConfig());
  const t = await startInjectServer({ ATELIER_CONFIG: configPath, ...env });
  return {
    ...t,
    async close() {
      await t.close();
      await dir.remove();
    },
  };
}

/** Keys staged for a job (any attempt) in the server's disk storage (`DATA_DIR/media`). */
export async function stagedKeys(t: ServerUnderTest, jobId: string): Promise<string[]> {
  const storage = createDiskStorage({ root: join(t.dataDir, 'media'), signer: createUrlSigner('listing-only-never-signs-0123456789') });
  const keys: string[] = [];
  for await (const object of storage.list(`${WORKER_UPLOADS}/${jobId}/`)) keys.push(object.key);
  return keys.sort();
}

/**
 * A multipart completion as `curl -F result=@result.json -F asset_0=@out.png` sends it: the
 * callback JSON as a file part, then `parts` in order ([name, bytes, content type]).
 */
export function completionForm(result: Record<string, unknown> | string, parts: readonly (readonly [string, Buffer, string?])[] = []): FormData {
  const form = new FormData();
  form.append('result', new Blob([typeof result === 'string' ? result : JSON.stringify(result)], { type: 'application/octet-stream' }), 'result.json');
  for (const [name, bytes, type] of parts) form.append(name, new Blob([new Uint8Array(bytes)], { type: type ?? 'image/png' }), name.endsWith('mp4') ? `${name}.mp4` : `${name}.png`);
  return form;
}

/** Worker calls through any server's transport (inject or socket): claim, heartbeat, JSON and multipart completions. */
export function injectWorker(t: ServerUnderTest, token: string) {
  const api = apiClient(t, token);
  return {
    token,
    async claimJob(body: Record<string, unknown> = { wait_seconds: 10 }): Promise<Claimed> {
      const res = await api.post('/api/worker/claim', body);
      if (res.status !== 200) throw new Error(`claim → ${res.status} ${res.text}`);
      return res.body as Claimed;
    },
    complete: (jobId: string, body: Record<string, unknown>) => api.post(`/api/worker/jobs/${jobId}/complete`, body),
    completeForm: (jobId: string, form: FormData) => api.post(`/api/worker/jobs/${jobId}/complete`, form),
    upload: (url: string, bytes: Buffer) => api.request('PUT', url, new Uint8Array(bytes), { 'content-type': 'image/png' }),
  };
}

/** Creates a worker over the admin API; returns its token. */
export async function addWorker(t: ServerUnderTest, name: string): Promise<string> {
  const res = await apiClient(t, t.adminToken).post('/api/admin/workers', { name });
  if (res.status !== 201) throw new Error(`POST /api/admin/workers → ${res.status} ${res.text}`);
  return res.body.token as string;
}

export interface Claimed {
  job_id: string;
  lease_token: string;
  attempt: number;
  max_attempts: number;
  lease_expires_at: string;
  heartbeat_interval_seconds: number;
  spec: Record<string, any>;
  inputs: { reference?: string; start?: string; end?: string };
  upload: { mode: string; method: 'PUT'; type: 'image' | 'video'; content_type: string; count: number; max_bytes: number; urls: string[]; complete_url: string; complete_parts: string[] };
}

/** A protocol client for one worker token, with plain fetch. */
export function workerClient(t: TestServer, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  const post = async (path: string, body: unknown): Promise<ApiResponse> =>
    readResponse(await fetch(`${t.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  return {
    token,
    post,
    async claim(body: Record<string, unknown> = {}): Promise<ApiResponse> {
      return post('/api/worker/claim', body);
    },
    /** Claims and expects a job. */
    async claimJob(body: Record<string, unknown> = { wait_seconds: 10 }): Promise<Claimed> {
      const res = await post('/api/worker/claim', body);
      if (res.status !== 200) throw new Error(`claim → ${res.status} ${res.text}`);
      return res.body as Claimed;
    },
    heartbeat(jobId: string, body: Record<string, unknown>): Promise<ApiResponse> {
      return post(`/api/worker/jobs/${jobId}/heartbeat`, body);
    },
    async upload(url: string, bytes: Buffer, headers: Record<string, string> = auth): Promise<ApiResponse> {
      return readResponse(await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers }, body: new Uint8Array(bytes) }));
    },
    complete(jobId: string, body: Record<string, unknown>): Promise<ApiResponse> {
      return post(`/api/worker/jobs/${jobId}/complete`, body);
    },
    /**
     * Heartbeats every `heartbeat_interval_seconds` until stopped, so a test can take its
     * time with a short lease. Returns the stop function and the answers seen.
     */
    keepAlive(claimed: Claimed): { stop: () => void; answers: ApiResponse[] } {
      const answers: ApiResponse[] = [];
      const timer = setInterval(() => {
        void post(`/api/worker/jobs/${claimed.job_id}/heartbeat`, { lease_token: claimed.lease_token })
          .then((res) => answers.push(res))
          .catch(() => undefined);
      }, claimed.heartbeat_interval_seconds * 1000);
      return { stop: () => clearInterval(timer), answers };
    },
  };
}

export type WorkerClient = ReturnType<typeof workerClient>;

/** The completion callback of seed 000 for uploads that returned `urls`. */
export function successCallback(claimed: Claimed, keys: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    job_id: claimed.job_id,
    lease_token: claimed.lease_token,
    status: 'completed',
    assets: keys.map((url, index) => ({ type: claimed.upload.type, url, thumbnail_url: null, metadata: { asset_index: index, seed: Number(claimed.spec.seed) + index } })),
    error_message: null,
    metadata: { worker: 'test' },
    ...extra,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
