import { randomUUID } from 'node:crypto';
import { STANDARD_SAMPLERS, type Backend, type BackendCapabilities, type GenerateContext, type GeneratedOutput } from '../backend.js';
import type { ControlNetType } from '../../jobs/conditioning.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { abortReason } from './abort-reason.js';
import { createA1111Catalog } from './a1111-catalog.js';
import { a1111HttpError } from './a1111-errors.js';
import { controlnetScripts, controlnetTypesOf, DEFAULT_A1111_CONTROLNET_MODELS } from './a1111-controlnet.js';
import { buildImg2ImgPayload, buildTxt2ImgPayload } from './a1111-payload.js';
import { preflight } from './a1111-preflight.js';
import { startProgressPoller, type A1111ProgressBody } from './a1111-progress.js';
import { readA1111Images } from './a1111-response.js';
import { stopTask, type A1111TaskState } from './a1111-task-stop.js';
import { assertCapabilities } from './assert-capabilities.js';
import { HttpTimeoutError, httpRequest, parseJsonBody, transportError, type HttpResponse } from './http-request.js';
import { referenceToPng } from './output-image.js';

/** How long a server may not know our task id before it is taken to ignore `force_task_id` (pre-1.8). */
const UNKNOWN_TASK_GRACE_MS = 2_000;

type Outcome = { readonly aborted: true } | { readonly aborted: false; readonly response: HttpResponse } | { readonly aborted: false; readonly error: unknown };

/** The request's outcome, or `aborted` as soon as the signal aborts (the request goes on). */
function untilAborted(request: Promise<HttpResponse>, signal: AbortSignal): Promise<Outcome> {
  if (signal.aborted) return Promise.resolve({ aborted: true });
  let onAbort = () => undefined as void;
  const aborted = new Promise<Outcome>((resolve) => {
    onAbort = () => resolve({ aborted: true });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const settled = request.then(
    (response): Outcome => ({ aborted: false, response }),
    (error: unknown): Outcome => ({ aborted: false, error }),
  );
  return Promise.race([settled, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Configuration of one A1111-compatible server (AUTOMATIC1111, Forge, SD.Next). */
export interface A1111BackendOptions {
  /** Base URL of the web UI, e.g. `http://127.0.0.1:7860` (a path prefix behind a proxy is kept). */
  readonly url: string;
  /** Credentials of the server's `--api-auth user:pass` (HTTP Basic). */
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * Sent as `override_settings.sd_model_checkpoint`; the server's current model when unset.
   * Checked against /sdapi/v1/sd-models first (title, model name, file name with or without
   * its `[hash]`), since A1111 silently renders with its current model for a name it lacks.
   */
  readonly checkpoint?: string;
  /** `connectMs` bounds connecting and the small calls (progress, interrupt, health); `generationMs` one whole generation. */
  readonly timeouts: { readonly connectMs: number; readonly generationMs: number };
  /** How often /progress is read while a request runs; default 500 ms. */
  readonly progressPollMs?: number;
  /**
   * Sampler names offered (the first is the default); each job's is also checked against the
   * server's /sdapi/v1/samplers (and /schedulers' suffixes such as " Karras" on 1.9+).
   */
  readonly samplers?: readonly string[];
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  readonly maxSteps?: number;
  readonly maxBatch?: number;
  readonly label?: string;
  /**
   * ControlNet model per control type, sent through the ControlNet extension's
   * `alwayson_scripts`; default ControlNet 1.1 SD 1.5 names. `{}`: no ControlNet.
   */
  readonly controlnetModels?: Partial<Record<ControlNetType, string>>;
}


/**
 * A backend for the AUTOMATIC1111 web UI API and its forks (PROTOCOLS §2): t2i through
 * POST /sdapi/v1/txt2img, i2i through /img2img with the reference center-cropped and sent as
 * base64, progress and live previews polled from /progress, cancel through /interrupt. Seeds
 * are the ones A1111 reports (`all_seeds`).
 *
 * Before posting, the checkpoint, sampler and ControlNet units of the outgoing body are
 * checked against the server's lists (a1111-preflight.ts), because A1111 renders something
 * else rather than refusing them; the lists are kept a minute per backend.
 *
 * Failures: a checkpoint, sampler or ControlNet model/module the server lacks, 422 validation
 * and other 4xx → UnrecoverableError (`backend_rejected`, or `backend_failed` for auth and a
 * missing API); 5xx, 408, 429, refused or dropped connections and malformed answers (no
 * images, bad JSON, bytes that are no image) → RetryableError (`backend_failed`); no answer
 * within `generationMs` → our task stopped, then RetryableError (`backend_timeout`). The signal
 * aborting → our task stopped, then CanceledError (or the abort's own signal error). Stopping
 * is a1111-task-stop.ts: /interrupt is global in A1111 and undone by the next task's start,
 * so it is sent when our task (`force_task_id`) is the one running.
 *
 * @example const backend = createA1111Backend({ url: 'http://127.0.0.1:7860', checkpoint: 'sd_xl_base_1.0.safetensors', timeouts: { connectMs: 5000, generationMs: 600_000 } })
 */
export function createA1111Backend(options: A1111BackendOptions): Backend {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const where = `AUTOMATIC1111 at ${base.origin}`;
  const { connectMs, generationMs } = options.timeouts;
  const pollMs = options.progressPollMs ?? 500;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.auth) headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;

  const controlnetModels = options.controlnetModels ?? DEFAULT_A1111_CONTROLNET_MODELS;
  const capabilities: BackendCapabilities = Object.freeze({
    modes: Object.freeze(['t2i', 'i2i'] as const),
    samplers: Object.freeze([...(options.samplers ?? STANDARD_SAMPLERS)]),
    maxWidth: options.maxWidth ?? 2048,
    maxHeight: options.maxHeight ?? 2048,
    maxSteps: options.maxSteps ?? 150,
    maxBatch: options.maxBatch ?? 8,
    cancel: true,
    preview: true,
    // txt2img's enable_hr (a1111-payload.ts); img2img has none, and hires fix is refused there.
    hiresFix: true,
    controlnet: Object.freeze(controlnetTypesOf(controlnetModels)),
  });

  const call = (method: 'GET' | 'POST', path: string, timeoutMs: number, signal?: AbortSignal, body?: string): Promise<HttpResponse> =>
    httpRequest({ method, url: new URL(path, base), headers, connectTimeoutMs: connectMs, timeoutMs, ...(signal ? { signal } : {}), ...(body === undefined ? {} : { body }) });

  /** Aborted by close(): ends the requests kept open after a cancel and the task stoppers. */
  const closing = new AbortController();
  const catalog = createA1111Catalog((path) => call('GET', path, connectMs * 2, closing.signal), where);

  /** Best effort: the job ends either way, and a failed interrupt must not hide why. */
  const interrupt = () => call('POST', 'sdapi/v1/interrupt', connectMs, closing.signal, '{}').catch(() => undefined);

  /** modules/progress.py's view of one task id (a route of the web UI, absent with --nowebui). */
  const taskState = async (taskId: string): Promise<A1111TaskState> => {
    try {
      const res = await call('POST', 'internal/progress', connectMs, closing.signal, JSON.stringify({ id_task: taskId, id_live_preview: -1, live_preview: false }));
      if (res.status >= 500 || res.status === 408 || res.status === 429) return 'unreachable';
      const body = res.status === 200 ? (parseJsonBody(res.body) as { active?: unknown; queued?: unknown; completed?: unknown } | undefined) : undefined;
      if (typeof body?.active !== 'boolean') return 'unavailable';
      return body.active ? 'active' : body.queued === true ? 'queued' : body.completed === true ? 'completed' : 'unknown';
    } catch {
      return 'unreachable';
    }
  };

  const stopping = new Set<Promise<void>>();
  /** Stops our task on the server (a1111-task-stop.ts); resolves once the first interrupt, if due now, is sent. */
  const stopOurTask = async (taskId: string, settled: Promise<unknown> | undefined, deadline: number): Promise<void> => {
    const stop = stopTask({ taskState: () => taskState(taskId), interrupt, ...(settled ? { settled } : {}), pollMs, deadline, unknownGraceMs: UNKNOWN_TASK_GRACE_MS, signal: closing.signal });
    stopping.add(stop.finished);
    void stop.finished.then(() => stopping.delete(stop.finished));
    await stop.decided;
  };

  async function generateImages(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedOutput[]> {
    assertCapabilities(spec, capabilities, 'The AUTOMATIC1111 backend');
    const i2i = spec.mode === 'i2i';
    // Our own task id (A1111 ≥ 1.8, Forge; older servers ignore it) lets /internal/progress tell our task from others.
    const taskId = `task(atelier-${randomUUID()})`;
    const payload = {
      ...(i2i
        ? buildImg2ImgPayload(spec, (await referenceToPng(ctx.inputs?.reference, spec.width, spec.height)).data, options.checkpoint)
        : buildTxt2ImgPayload(spec, options.checkpoint)),
      ...controlnetScripts(spec, ctx.inputs?.controlnet, controlnetModels),
      force_task_id: taskId,
    };
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    try {
      await preflight(payload, catalog, where, ctx.signal);
    } catch (error) {
      throw ctx.signal.aborted ? abortReason(ctx.signal) : error;
    }

    const totalSteps = spec.steps * (!i2i && spec.hiresFix ? 2 : 1);
    const progressPath = `sdapi/v1/progress?skip_current_image=${ctx.onPreview ? 'false' : 'true'}`;
    const poller = startProgressPoller({
      poll: async (signal) => {
        const res = await call('GET', progressPath, connectMs * 2, signal);
        return res.status === 200 ? (parseJsonBody(res.body) as A1111ProgressBody | undefined) : undefined;
      },
      intervalMs: pollMs,
      totalSteps,
      onProgress: ctx.onProgress,
      onPreview: ctx.onPreview,
    });
    const startedAt = Date.now();
    // Not aborted by ctx.signal: A1111 renders a request to the end even after its client
    // hangs up, so a canceled request stays open until it settles, to know when to stop.
    const request = call('POST', i2i ? 'sdapi/v1/img2img' : 'sdapi/v1/txt2img', generationMs, closing.signal, JSON.stringify(payload));
    const outcome = await untilAborted(request, ctx.signal);
    await poller.stop();
    if (outcome.aborted) {
      await stopOurTask(taskId, request.catch(() => undefined), startedAt + generationMs);
      throw abortReason(ctx.signal);
    }
    if ('error' in outcome) {
      // A generation past its time still runs (or waits) on the server; stop it before retrying.
      if (outcome.error instanceof HttpTimeoutError && outcome.error.phase === 'response') await stopOurTask(taskId, undefined, Date.now() + generationMs);
      throw transportError(where, outcome.error);
    }
    const response = outcome.response;
    if (response.status < 200 || response.status >= 300) throw a1111HttpError(where, response.status, response.body);
    const images = await readA1111Images(where, response.body, spec);
    ctx.onProgress({ step: totalSteps, totalSteps });
    return images;
  }

  return {
    kind: 'a1111',
    label: options.label ?? 'Stable Diffusion web UI (AUTOMATIC1111 API)',
    capabilities,
    generate: generateImages,
    async health(signal?: AbortSignal): Promise<boolean> {
      try {
        const res = await call('GET', 'sdapi/v1/progress?skip_current_image=true', connectMs, signal);
        return res.status === 200;
      } catch {
        return false;
      }
    },
    async close() {
      // Nothing pooled (every request opens its own connection, see http-request.ts); what is
      // left are canceled requests kept open and the stoppers watching them.
      closing.abort();
      await Promise.all(stopping);
    },
  };
}
