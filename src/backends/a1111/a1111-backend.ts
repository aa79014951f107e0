import { STANDARD_SAMPLERS, type Backend, type BackendCapabilities, type GenerateContext, type GeneratedOutput } from '../backend.js';
import type { ControlNetType } from '../../jobs/conditioning.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { abortReason } from './abort-reason.js';
import { a1111HttpError } from './a1111-errors.js';
import { controlnetScripts, controlnetTypesOf, DEFAULT_A1111_CONTROLNET_MODELS } from './a1111-controlnet.js';
import { buildImg2ImgPayload, buildTxt2ImgPayload } from './a1111-payload.js';
import { startProgressPoller, type A1111ProgressBody } from './a1111-progress.js';
import { readA1111Images } from './a1111-response.js';
import { assertCapabilities } from './assert-capabilities.js';
import { HttpTimeoutError, httpRequest, parseJsonBody, transportError, type HttpResponse } from './http-request.js';
import { referenceToPng } from './output-image.js';

/** Configuration of one A1111-compatible server (AUTOMATIC1111, Forge, SD.Next). */
export interface A1111BackendOptions {
  /** Base URL of the web UI, e.g. `http://127.0.0.1:7860` (a path prefix behind a proxy is kept). */
  readonly url: string;
  /** Credentials of the server's `--api-auth user:pass` (HTTP Basic). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Sent as `override_settings.sd_model_checkpoint`; the server's current model when unset. */
  readonly checkpoint?: string;
  /** `connectMs` bounds connecting and the small calls (progress, interrupt, health); `generationMs` one whole generation. */
  readonly timeouts: { readonly connectMs: number; readonly generationMs: number };
  /** How often /progress is read while a request runs; default 500 ms. */
  readonly progressPollMs?: number;
  /** Sampler names the server has (GET /sdapi/v1/samplers); the first is the default. */
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
 * Failures: 422 validation and other 4xx → UnrecoverableError (`backend_rejected`, or
 * `backend_failed` for auth and a missing API); 5xx, 408, 429, refused or dropped connections
 * and malformed answers (no images, bad JSON, bytes that are no image) → RetryableError
 * (`backend_failed`); no answer within `generationMs` → /interrupt, then RetryableError
 * (`backend_timeout`). The signal aborting → /interrupt, then CanceledError (or the abort's
 * own signal error). /interrupt is global in A1111: it stops whatever job is running.
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
    controlnet: Object.freeze(controlnetTypesOf(controlnetModels)),
  });

  const call = (method: 'GET' | 'POST', path: string, timeoutMs: number, signal?: AbortSignal, body?: string): Promise<HttpResponse> =>
    httpRequest({ method, url: new URL(path, base), headers, connectTimeoutMs: connectMs, timeoutMs, ...(signal ? { signal } : {}), ...(body === undefined ? {} : { body }) });

  /** Best effort: the job ends either way, and a failed interrupt must not hide why. */
  const interrupt = () => call('POST', 'sdapi/v1/interrupt', connectMs, undefined, '{}').catch(() => undefined);

  async function generateImages(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedOutput[]> {
    assertCapabilities(spec, capabilities, 'The AUTOMATIC1111 backend');
    const i2i = spec.mode === 'i2i';
    const payload = {
      ...(i2i
        ? buildImg2ImgPayload(spec, (await referenceToPng(ctx.inputs?.reference, spec.width, spec.height)).data, options.checkpoint)
        : buildTxt2ImgPayload(spec, options.checkpoint)),
      ...controlnetScripts(spec, ctx.inputs?.controlnet, controlnetModels),
    };
    if (ctx.signal.aborted) throw abortReason(ctx.signal);

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
    let response: HttpResponse;
    try {
      response = await call('POST', i2i ? 'sdapi/v1/img2img' : 'sdapi/v1/txt2img', generationMs, ctx.signal, JSON.stringify(payload));
    } catch (error) {
      await poller.stop();
      if (ctx.signal.aborted) {
        await interrupt();
        throw abortReason(ctx.signal);
      }
      // A generation past its time is still running on the GPU; stop it before retrying.
      if (error instanceof HttpTimeoutError && error.phase === 'response') await interrupt();
      throw transportError(where, error);
    }
    await poller.stop();
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
      // Nothing pooled: every request opens its own connection (see http-request.ts).
    },
  };
}
