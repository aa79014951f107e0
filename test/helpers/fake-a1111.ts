/**
 * A fake AUTOMATIC1111 web UI API on a real socket, speaking PROTOCOLS §2: synchronous
 * txt2img/img2img serialized by one lock, /progress reflecting the running job with a live
 * preview, a global /interrupt, /sd-models and /samplers, HTTP Basic when `auth` is set, and
 * A1111's error shapes. Images are flat PNGs whose colour encodes the seed (see seed-png.ts)
 * and that carry a `parameters` text as A1111 writes it. Faults are queued with `fail()`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { idleState, outputSize, runSampling } from './fake-a1111-state.js';
import { colourPng, readBody } from './seed-png.js';

export interface RecordedA1111Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown> | undefined;
}

/** One fault, used by the next generation request. */
export type A1111Fault =
  | { readonly kind: 'status'; readonly status: number; readonly body?: unknown }
  | { readonly kind: 'validation'; readonly field: string; readonly msg?: string }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'drop'; readonly afterSteps: number }
  | { readonly kind: 'malformed'; readonly what: 'json' | 'no-images' | 'not-image' | 'info' };

export interface FakeA1111Options {
  readonly auth?: { readonly username: string; readonly password: string };
  /** Time per sampling step; default 5 ms. */
  readonly stepDelayMs?: number;
  /** Publish `current_image` while sampling; default true. */
  readonly previews?: boolean;
  /** Put a grid before the images of a batch (`index_of_first_image` 1). */
  readonly returnGrid?: boolean;
}

export interface FakeA1111 {
  readonly url: string;
  readonly requests: RecordedA1111Request[];
  /** The txt2img/img2img requests, in order. */
  generations(): RecordedA1111Request[];
  count(path: string): number;
  fail(fault: A1111Fault): void;
  close(): Promise<void>;
}

export const FAKE_SAMPLERS = ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDIM'];
const GENERATE = new Set(['/sdapi/v1/txt2img', '/sdapi/v1/img2img']);

/** A1111's `handle_exception` body for an HTTPException or a crash. */
const a1111Error = (error: string, detail: string, errors = '') => ({ error, detail, body: '', errors });

const infotext = (b: Record<string, unknown>, seed: number, w: number, h: number) =>
  `${String(b.prompt ?? '')}${b.negative_prompt ? `\nNegative prompt: ${String(b.negative_prompt)}` : ''}\nSteps: ${String(b.steps)}, Sampler: ${String(b.sampler_name)}, CFG scale: ${String(b.cfg_scale)}, Seed: ${seed}, Size: ${w}x${h}, Model: fake`;

/** Starts the fake on 127.0.0.1 and an ephemeral port. */
export async function startFakeA1111(options: FakeA1111Options = {}): Promise<FakeA1111> {
  const requests: RecordedA1111Request[] = [];
  const faults: A1111Fault[] = [];
  const state = idleState();
  let lock: Promise<unknown> = Promise.resolve();
  let closed = false;
  const expectedAuth = options.auth && `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  async function generate(req: http.IncomingMessage, res: http.ServerResponse, path: string, body: Record<string, unknown>): Promise<void> {
    const fault = faults.shift();
    if (fault?.kind === 'status') return send(res, fault.status, fault.body ?? a1111Error('OutOfMemoryError', '', 'CUDA out of memory. Tried to allocate 2.00 GiB'));
    if (fault?.kind === 'validation') return send(res, 422, { detail: [{ loc: ['body', fault.field], msg: fault.msg ?? 'value is not a valid integer', type: 'type_error.integer' }] });
    if (typeof body.sampler_name === 'string' && !FAKE_SAMPLERS.includes(body.sampler_name)) return send(res, 400, a1111Error('HTTPException', 'Sampler not found'));
    const img2img = path.endsWith('img2img');
    const completed = await runSampling(state, body, img2img, {
      stepDelayMs: options.stepDelayMs ?? 5,
      previews: options.previews ?? true,
      holdMs: fault?.kind === 'slow' ? fault.ms : 0,
      isClosed: () => closed,
      afterStep: (done) => {
        if (fault?.kind !== 'drop' || done < fault.afterSteps) return false;
        req.socket.destroy();
        return true;
      },
    });
    Object.assign(state, idleState());
    if (!completed) return;
    const batch = typeof body.batch_size === 'number' ? body.batch_size : 1;
    const seed = typeof body.seed === 'number' && body.seed >= 0 ? body.seed : Math.floor(Math.random() * 2 ** 32);
    const allSeeds = Array.from({ length: batch }, (_, i) => seed + i);
    const { width, height } = outputSize(body, img2img);
    const infotexts = allSeeds.map((s) => infotext(body, s, width, height));
    const images = await Promise.all(allSeeds.map(async (s, i) => (await colourPng(s, width, height, infotexts[i])).toString('base64')));
    const grid = options.returnGrid && batch > 1;
    if (grid) images.unshift((await colourPng(0x808080, width * 2, height)).toString('base64'));
    const info = { prompt: body.prompt, seed, all_seeds: allSeeds, subseed: -1, width, height, sampler_name: body.sampler_name, steps: body.steps, batch_size: batch, index_of_first_image: grid ? 1 : 0, infotexts, sd_model_name: 'fake', version: 'fake-1.10' };
    const what = fault?.kind === 'malformed' ? fault.what : undefined;
    if (what === 'json') return send(res, 200, '{"images": ["iVBOR');
    const sentImages = what === 'no-images' ? [] : what === 'not-image' ? images.map(() => Buffer.from('not an image').toString('base64')) : images;
    send(res, 200, { images: sentImages, parameters: body, info: what === 'info' ? '{oops' : JSON.stringify(info) });
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = await readBody(req);
      let body: Record<string, unknown> | undefined;
      try {
        body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : undefined;
      } catch {
        return send(res, 422, { detail: [{ loc: ['body', 0], msg: 'Expecting value', type: 'value_error.jsondecode' }] });
      }
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, body });
      if (expectedAuth && req.headers.authorization !== expectedAuth) {
        return send(res, 401, a1111Error('HTTPException', 'Incorrect username or password'), { 'www-authenticate': 'Basic' });
      }
      const route = `${req.method} ${url.pathname}`;
      if (req.method === 'POST' && GENERATE.has(url.pathname)) {
        // queue_lock: one generation at a time, in arrival order.
        const run = lock.then(() => generate(req, res, url.pathname, body ?? {}));
        lock = run.catch(() => undefined);
        return run;
      }
      if (route === 'GET /sdapi/v1/progress') {
        const skip = url.searchParams.get('skip_current_image') === 'true';
        const { current_image: image, ...rest } = state;
        const progress = state.job_count > 0 ? Math.min(1, 0.01 + (state.job_no + state.sampling_step / Math.max(1, state.sampling_steps)) / state.job_count) : 0;
        return send(res, 200, { progress, eta_relative: 0, state: { ...rest, job_timestamp: '20240101000000', stopping_generation: false }, current_image: skip ? null : image, textinfo: null, current_task: null });
      }
      if (route === 'POST /sdapi/v1/interrupt') {
        state.interrupted = true;
        return send(res, 200, {});
      }
      if (route === 'GET /sdapi/v1/sd-models') return send(res, 200, [{ title: 'fake.safetensors [0123456789]', model_name: 'fake', hash: '0123456789', sha256: null, filename: '/models/fake.safetensors', config: null }]);
      if (route === 'GET /sdapi/v1/samplers') return send(res, 200, FAKE_SAMPLERS.map((name) => ({ name, aliases: [], options: {} })));
      send(res, 404, { detail: 'Not Found' });
    })().catch((error: unknown) => send(res, 500, a1111Error('RuntimeError', '', String(error))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    generations: () => requests.filter((r) => GENERATE.has(r.path)),
    count: (path) => requests.filter((r) => r.path === path).length,
    fail: (fault) => void faults.push(fault),
    async close() {
      closed = true;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
