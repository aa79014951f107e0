/**
 * A fake AUTOMATIC1111 web UI API on a real socket, behaving as A1111 1.8 or 1.10 (and Forge's
 * built-in ControlNet) do on the points Atelier depends on (PROTOCOLS §2):
 * - synchronous txt2img/img2img behind one global FIFO queue; /progress shows whichever task
 *   runs; /interrupt stops only the running task, and the next task's begin() clears it;
 * - `force_task_id` and POST /internal/progress (only with the web UI, i.e. not `webui: false`,
 *   A1111's `--nowebui`);
 * - /sd-models, /samplers, /schedulers (1.10 only) with real-shaped bodies
 *   (fake-a1111-catalog.ts); an unknown `override_settings.sd_model_checkpoint` is ignored and
 *   the current model renders; an unknown sampler is a 404 on 1.8 and silently the first
 *   sampler on 1.10;
 * - the ControlNet extension's /controlnet/model_list and /module_list; a unit with an unknown
 *   model or module makes the script fail, which A1111 logs while the job goes on without it;
 * - HTTP Basic when `auth` is set (not on /internal or /controlnet, as in A1111), and A1111's
 *   error shapes.
 * Images are flat PNGs whose colour encodes the seed (see seed-png.ts) and that carry a
 * `parameters` text as A1111 writes it. Faults are queued with `fail()`; `tasks()` tells what
 * each request really rendered.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  checkpointInfo,
  controlnetModelList,
  controlnetModelLoads,
  controlnetModuleKnown,
  controlnetModuleList,
  CONTROLNET_MODULES,
  DEFAULT_CHECKPOINTS,
  DEFAULT_CONTROLNET_MODELS,
  resolveCheckpoint,
  resolveSampler,
  SAMPLERS_1_10,
  SAMPLERS_1_8,
  SCHEDULERS_1_10,
  sdModelItem,
  type FakeA1111Version,
  type FakeCheckpoint,
  type FakeControlNetFlavour,
  type FakeControlNetModule,
  type FakeSampler,
} from './fake-a1111-catalog.js';
import { a1111TaskId, createFakeQueue, type FakeTask } from './fake-a1111-queue.js';
import { beginJob, endJob, idleState, outputSize, runSampling } from './fake-a1111-state.js';
import { colourPng, readBody } from './seed-png.js';

export type { FakeTask } from './fake-a1111-queue.js';
export type { FakeCheckpoint } from './fake-a1111-catalog.js';

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
  /** The request's socket is destroyed after `afterSteps` steps. */
  | { readonly kind: 'drop'; readonly afterSteps: number }
  /** The server process ends the connection (FIN, no answer) after `afterSteps` steps and stops the job. */
  | { readonly kind: 'hangup'; readonly afterSteps: number }
  /** The process crashes after `afterSteps` steps: every socket reset, every task lost; it answers again at once. */
  | { readonly kind: 'crash'; readonly afterSteps: number }
  | { readonly kind: 'malformed'; readonly what: 'json' | 'no-images' | 'not-image' | 'info' };

export interface FakeA1111Options {
  readonly auth?: { readonly username: string; readonly password: string };
  /** Time per sampling step; default 5 ms. */
  readonly stepDelayMs?: number;
  /** Publish `current_image` while sampling; default true. */
  readonly previews?: boolean;
  /** Put a grid before the images of a batch (`index_of_first_image` 1). */
  readonly returnGrid?: boolean;
  /** Which A1111 to behave as; default '1.10' (also what Forge does). */
  readonly version?: FakeA1111Version;
  /** Serve the web UI's /internal routes; false is A1111's `--nowebui`. Default true. */
  readonly webui?: boolean;
  /** Checkpoints in models/Stable-diffusion; default v1-5-pruned-emaonly and sd_xl_base_1.0. */
  readonly checkpoints?: readonly FakeCheckpoint[];
  /** Overrides the version's sampler list. */
  readonly samplers?: readonly FakeSampler[];
  /** Default 'extension' (sd-webui-controlnet). */
  readonly controlnet?: FakeControlNetFlavour;
  /** ControlNet model entries, `"<stem> [<hash>]"`; default the ControlNet 1.1 SD 1.5 set and diffusers_xl_depth_full. */
  readonly controlnetModels?: readonly string[];
  /** Preprocessors, {name, label}; default a few of sd-webui-controlnet's, covering Atelier's five. */
  readonly controlnetModules?: readonly FakeControlNetModule[];
}

export interface FakeA1111 {
  readonly url: string;
  readonly requests: RecordedA1111Request[];
  /** The txt2img/img2img requests, in order. */
  generations(): RecordedA1111Request[];
  /** What each generation request became, in arrival order (requests refused before the queue have none). */
  tasks(): readonly FakeTask[];
  count(path: string): number;
  fail(fault: A1111Fault): void;
  /** A checkpoint file appears (listed from the next /sd-models on, as after "refresh"). */
  addCheckpoint(checkpoint: FakeCheckpoint): void;
  /** Resets every open connection (as a proxy would) and keeps listening; tasks go on. Returns how many. */
  dropConnections(): number;
  /** Stops listening and destroys every connection, as when the process is killed; idempotent. */
  close(): Promise<void>;
}

const GENERATE = new Set(['/sdapi/v1/txt2img', '/sdapi/v1/img2img']);

/** A1111's `handle_exception` body for an HTTPException or a crash. */
const a1111Error = (error: string, detail: string, errors = '') => ({ error, detail, body: '', errors });

const infotext = (b: Record<string, unknown>, seed: number, w: number, h: number, sampler: string, model: { shorthash?: string | undefined; modelName: string }) =>
  `${String(b.prompt ?? '')}${b.negative_prompt ? `\nNegative prompt: ${String(b.negative_prompt)}` : ''}\nSteps: ${String(b.steps)}, Sampler: ${sampler}, CFG scale: ${String(b.cfg_scale)}, Seed: ${seed}, Size: ${w}x${h}, ${model.shorthash ? `Model hash: ${model.shorthash}, ` : ''}Model: ${model.modelName}`;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Starts the fake on 127.0.0.1 and an ephemeral port. */
export async function startFakeA1111(options: FakeA1111Options = {}): Promise<FakeA1111> {
  const version = options.version ?? '1.10';
  const webui = options.webui ?? true;
  const cnFlavour = options.controlnet ?? 'extension';
  const checkpoints = [...(options.checkpoints ?? DEFAULT_CHECKPOINTS)];
  const current = checkpoints[0]!;
  const samplers = options.samplers ?? (version === '1.8' ? SAMPLERS_1_8 : SAMPLERS_1_10);
  const cnModels = options.controlnetModels ?? DEFAULT_CONTROLNET_MODELS;
  const cnModules = options.controlnetModules ?? CONTROLNET_MODULES;
  const requests: RecordedA1111Request[] = [];
  const tasks: FakeTask[] = [];
  const faults: A1111Fault[] = [];
  const state = idleState();
  const queue = createFakeQueue();
  const sockets = new Set<Socket>();
  let closed = false;
  /** Bumped by a crash: tasks of an earlier life of the process are gone. */
  let life = 0;
  const expectedAuth = options.auth && `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  const crash = () => {
    life += 1;
    queue.reset();
    Object.assign(state, idleState());
    for (const socket of sockets) socket.resetAndDestroy();
  };

  /** The ControlNet script's `process()`: one bad unit fails it, and A1111 carries on without ControlNet. */
  function controlnetOutcome(scripts: Record<string, unknown> | undefined): FakeTask['controlnet'] {
    const cn = scripts?.controlnet;
    const units = isObject(cn) && Array.isArray(cn.args) ? cn.args.filter((u): u is Record<string, unknown> => isObject(u) && u.enabled !== false) : [];
    if (units.length === 0) return 'none';
    const ok = units.every((u) => controlnetModuleKnown(cnFlavour, cnModules, u.module ?? 'none') && controlnetModelLoads(cnFlavour, cnModels, u.model));
    return ok ? 'applied' : 'skipped';
  }

  async function generate(req: http.IncomingMessage, res: http.ServerResponse, path: string, body: Record<string, unknown>): Promise<void> {
    const fault = faults.shift();
    if (fault?.kind === 'status') return send(res, fault.status, fault.body ?? a1111Error('OutOfMemoryError', '', 'CUDA out of memory. Tried to allocate 2.00 GiB'));
    if (fault?.kind === 'validation') return send(res, 422, { detail: [{ loc: ['body', fault.field], msg: fault.msg ?? 'value is not a valid integer', type: 'type_error.integer' }] });
    const img2img = path.endsWith('img2img');
    // api.py text2imgapi, in its order: the sampler, the alwayson scripts, then the queue.
    const requested = [body.sampler_name, body.sampler_index].find((v) => typeof v === 'string' && v !== '') ?? 'Euler';
    const sampler = resolveSampler(version, samplers, requested as string);
    if (sampler === undefined) return send(res, 404, a1111Error('HTTPException', 'Sampler not found', '404: Sampler not found'));
    const scripts = isObject(body.alwayson_scripts) ? body.alwayson_scripts : undefined;
    for (const name of Object.keys(scripts ?? {})) {
      if (name.toLowerCase() !== 'controlnet' || cnFlavour === 'none') return send(res, 422, a1111Error('HTTPException', `always on script ${name} not found`, `422: always on script ${name} not found`));
    }
    const kind = img2img ? 'img2img' : 'txt2img';
    const task: FakeTask = { id: typeof body.force_task_id === 'string' && body.force_task_id !== '' ? body.force_task_id : a1111TaskId(kind), path, body, status: 'queued', interrupted: false, stepsDone: 0, controlnet: 'none' };
    tasks.push(task);
    queue.add(task.id);
    const taskLife = life;
    const alive = () => !closed && life === taskLife;
    await queue.run(async () => {
      if (!alive()) return void (task.status = 'lost');
      beginJob(state, `scripts_${kind}`);
      queue.start(task.id);
      task.status = 'running';
      const model = resolveCheckpoint(checkpoints, current, isObject(body.override_settings) ? body.override_settings.sd_model_checkpoint : undefined);
      task.checkpoint = checkpointInfo(model).title;
      task.sampler = sampler;
      task.controlnet = controlnetOutcome(scripts);
      const steps = await runSampling(state, body, img2img, {
        stepDelayMs: options.stepDelayMs ?? 5,
        previews: options.previews ?? true,
        holdMs: fault?.kind === 'slow' ? fault.ms : 0,
        alive,
        afterStep: (done) => {
          task.stepsDone = done;
          if ((fault?.kind !== 'drop' && fault?.kind !== 'hangup' && fault?.kind !== 'crash') || done < fault.afterSteps) return false;
          if (fault.kind === 'drop') req.socket.destroy();
          else if (fault.kind === 'hangup') req.socket.end();
          else crash();
          return true;
        },
      });
      task.interrupted = state.interrupted;
      if (!alive() || steps === undefined) {
        if (life !== taskLife) task.status = 'lost';
        else finish();
        return;
      }
      finish();
      await respond(res, body, img2img, sampler, model, fault);
      function finish() {
        endJob(state);
        queue.finish(task.id);
        task.status = 'done';
      }
    });
  }

  async function respond(res: http.ServerResponse, body: Record<string, unknown>, img2img: boolean, sampler: string, checkpoint: FakeCheckpoint, fault: A1111Fault | undefined): Promise<void> {
    const model = checkpointInfo(checkpoint);
    const batch = typeof body.batch_size === 'number' ? body.batch_size : 1;
    const seed = typeof body.seed === 'number' && body.seed >= 0 ? body.seed : Math.floor(Math.random() * 2 ** 32);
    const allSeeds = Array.from({ length: batch }, (_, i) => seed + i);
    const { width, height } = outputSize(body, img2img);
    const infotexts = allSeeds.map((s) => infotext(body, s, width, height, sampler, model));
    const images = await Promise.all(allSeeds.map(async (s, i) => (await colourPng(s, width, height, infotexts[i])).toString('base64')));
    const grid = options.returnGrid && batch > 1;
    if (grid) images.unshift((await colourPng(0x808080, width * 2, height)).toString('base64'));
    const info = { prompt: body.prompt, seed, all_seeds: allSeeds, subseed: -1, width, height, sampler_name: sampler, steps: body.steps, batch_size: batch, index_of_first_image: grid ? 1 : 0, infotexts, sd_model_name: model.modelName, sd_model_hash: model.shorthash ?? null, version: `v${version}.0` };
    const what = fault?.kind === 'malformed' ? fault.what : undefined;
    if (what === 'json') return send(res, 200, '{"images": ["iVBOR');
    const sentImages = what === 'no-images' ? [] : what === 'not-image' ? images.map(() => Buffer.from('not an image').toString('base64')) : images;
    send(res, 200, { images: sentImages, parameters: body, info: what === 'info' ? '{oops' : JSON.stringify(info) });
  }

  /** Routes other than txt2img/img2img; undefined when there is none. */
  function answer(method: string, url: URL, body: Record<string, unknown> | undefined): [number, unknown] | undefined {
    switch (`${method} ${url.pathname}`) {
      case 'GET /sdapi/v1/progress': {
        const skip = url.searchParams.get('skip_current_image') === 'true';
        const { current_image: image, ...rest } = state;
        const progress = state.job_count > 0 ? Math.min(1, 0.01 + (state.job_no + state.sampling_step / Math.max(1, state.sampling_steps)) / state.job_count) : 0;
        return [200, { progress, eta_relative: 0, state: { ...rest, stopping_generation: false }, current_image: skip || state.job_count === 0 ? null : image, textinfo: null, current_task: null }];
      }
      case 'POST /sdapi/v1/interrupt':
        state.interrupted = true;
        return [200, {}];
      case 'GET /sdapi/v1/sd-models':
        return [200, checkpoints.map(sdModelItem)];
      case 'GET /sdapi/v1/samplers':
        return [200, samplers];
      case 'GET /sdapi/v1/schedulers':
        return version === '1.8' ? undefined : [200, SCHEDULERS_1_10];
      case 'GET /controlnet/model_list':
        return cnFlavour === 'none' ? undefined : [200, controlnetModelList(cnFlavour, cnModels)];
      case 'GET /controlnet/module_list':
        return cnFlavour === 'none' ? undefined : [200, controlnetModuleList(cnFlavour, cnModules, url.searchParams.get('alias_names') === 'true')];
      case 'POST /internal/progress':
        return webui ? [200, queue.progress(body?.id_task, state)] : undefined;
      case 'GET /internal/pending-tasks':
        return webui ? [200, { size: queue.pendingIds().length, tasks: queue.pendingIds() }] : undefined;
      default:
        return undefined;
    }
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
      // --api-auth guards the /sdapi routes only: the web UI's and extensions' routes have their own.
      const guarded = url.pathname.startsWith('/sdapi/');
      if (guarded && expectedAuth && req.headers.authorization !== expectedAuth) {
        return send(res, 401, a1111Error('HTTPException', 'Incorrect username or password'), { 'www-authenticate': 'Basic' });
      }
      if (req.method === 'POST' && GENERATE.has(url.pathname)) return generate(req, res, url.pathname, body ?? {});
      const answered = answer(req.method ?? 'GET', url, body);
      if (answered) return send(res, answered[0], answered[1]);
      send(res, 404, { detail: 'Not Found' });
    })().catch((error: unknown) => send(res, 500, a1111Error('RuntimeError', '', String(error))));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    generations: () => requests.filter((r) => GENERATE.has(r.path)),
    tasks: () => tasks,
    count: (path) => requests.filter((r) => r.path === path).length,
    fail: (fault) => void faults.push(fault),
    addCheckpoint: (checkpoint) => void checkpoints.push(checkpoint),
    dropConnections() {
      const count = sockets.size;
      for (const socket of sockets) socket.resetAndDestroy();
      return count;
    },
    async close() {
      closed = true;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
