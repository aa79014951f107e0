import { RetryableError, UnrecoverableError } from '../../errors/signals.js';
import { seedForImage, type JobSpec, type Mode } from '../../jobs/job-spec.js';
import type { Backend, BackendCapabilities, GenerateContext, GeneratedImage } from '../backend.js';
import { abortReason } from '../a1111/abort-reason.js';
import { assertCapabilities } from '../a1111/assert-capabilities.js';
import { HttpTimeoutError, httpRequest, transportError, type HttpResponse } from '../a1111/http-request.js';
import { cropToPng, referenceToPng, type PngImage } from '../a1111/output-image.js';
import { openAIHttpError } from './openai-errors.js';
import { chooseUpstreamSize, openAIModelDefaults } from './openai-model-defaults.js';
import { editsBody, generationsBody, type EncodedBody } from './openai-request.js';
import { readOpenAIImages } from './openai-response.js';

/** Configuration of one OpenAI Images API upstream (OpenAI itself or a compatible server). */
export interface OpenAIImagesBackendOptions {
  /** Base URL including the version, e.g. `https://api.openai.com/v1`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer …`; omitted when unset (local compatible servers). */
  readonly apiKey?: string;
  /** The upstream model name, e.g. `gpt-image-1`, `dall-e-3`. */
  readonly model: string;
  /** `connectMs` bounds connecting and health; `generationMs` a whole job (all its requests). */
  readonly timeouts: { readonly connectMs: number; readonly generationMs: number };
  /** Allowed `WxH` sizes; defaults by model (openai-model-defaults.ts), any size for unknown models. */
  readonly sizes?: readonly string[];
  /** Most images one job may ask for; default 8. */
  readonly maxBatch?: number;
  /** `n` per request; more images take several requests. Default by model. */
  readonly imagesPerRequest?: number;
  /** Send `response_format: b64_json`, or omit it (GPT image models reject it). Default by model. */
  readonly responseFormat?: 'b64_json' | 'omit';
  readonly modes?: readonly Extract<Mode, 't2i' | 'i2i'>[];
  /** Names accepted for `sampler`, all ignored; default `['default', 'Euler']`. */
  readonly samplers?: readonly string[];
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  readonly label?: string;
}

/**
 * A backend for the OpenAI Images API (PROTOCOLS §3): t2i through POST /images/generations,
 * i2i through /images/edits with the center-cropped reference as a multipart file.
 *
 * What the API cannot do, and how the adapter says so:
 * - No seeds: image i reports `spec.seed + i` so records stay uniform, but the same seed does
 *   NOT reproduce an image. Negative prompt, steps, CFG, denoise strength and sampler are not
 *   sent; `samplers` lists the names accepted so the platform's default sampler passes checks.
 * - No progress: one event at the start (0 of N requests) and one after each request.
 * - Fixed sizes on most models: the closest allowed size is requested and the result
 *   center-cropped to the job's size, so outputs are always width×height.
 * - Cancel aborts the HTTP request; the upstream still finishes (and bills) the image.
 *
 * Failures: see openai-errors.ts; network failures and malformed answers are retryable,
 * no answer within `generationMs` is a retryable `backend_timeout`.
 *
 * @example const backend = createOpenAIImagesBackend({ url: 'https://api.openai.com/v1', apiKey: process.env.OPENAI_API_KEY, model: 'gpt-image-1', timeouts: { connectMs: 5000, generationMs: 180_000 } })
 */
export function createOpenAIImagesBackend(options: OpenAIImagesBackendOptions): Backend {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const where = `The OpenAI images API at ${base.origin}`;
  const defaults = openAIModelDefaults(options.model);
  const sizes = options.sizes ?? defaults.sizes;
  const perRequest = Math.max(1, options.imagesPerRequest ?? defaults.imagesPerRequest);
  const responseFormat = options.responseFormat ?? defaults.responseFormat;
  const { connectMs, generationMs } = options.timeouts;
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};

  const capabilities: BackendCapabilities = Object.freeze({
    modes: Object.freeze([...(options.modes ?? defaults.modes)]),
    samplers: Object.freeze([...(options.samplers ?? ['default', 'Euler'])]),
    maxWidth: options.maxWidth ?? 2048,
    maxHeight: options.maxHeight ?? 2048,
    maxSteps: 150,
    maxBatch: options.maxBatch ?? 8,
    cancel: true,
    preview: false,
    // The Images API has no second pass.
    hiresFix: false,
  });

  const post = (path: string, encoded: EncodedBody, deadline: number, signal: AbortSignal): Promise<HttpResponse> =>
    httpRequest({ method: 'POST', url: new URL(path, base), headers: { ...auth, accept: 'application/json', 'content-type': encoded.contentType }, body: encoded.body, signal, connectTimeoutMs: connectMs, timeoutMs: Math.max(1, deadline - Date.now()) });

  /** Fetches a `url` item. Never with the API key: the URL is a signed link, often on another host. */
  async function download(url: string, deadline: number, signal: AbortSignal): Promise<Buffer> {
    let target = new URL(url);
    for (let hop = 0; hop <= 3; hop += 1) {
      const res = await httpRequest({ method: 'GET', url: target, signal, connectTimeoutMs: connectMs, timeoutMs: Math.max(1, deadline - Date.now()) });
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && location) target = new URL(location, target);
      else if (res.status === 200) return res.body;
      else throw new RetryableError(`${where}: fetching an image URL it returned failed (HTTP ${res.status})`, 'backend_failed');
    }
    throw new RetryableError(`${where}: an image URL it returned redirected too often`, 'backend_failed');
  }

  async function generate(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedImage[]> {
    assertCapabilities(spec, capabilities, `The OpenAI backend (${options.model})`);
    const deadline = Date.now() + generationMs;
    const size = chooseUpstreamSize({ width: spec.width, height: spec.height }, sizes);
    const reference = spec.mode === 'i2i' ? (await referenceToPng(ctx.inputs?.reference, size.width, size.height)).data : undefined;
    const batches = Array.from({ length: Math.ceil(spec.numImages / perRequest) }, (_, i) => Math.min(perRequest, spec.numImages - i * perRequest));
    ctx.onProgress({ step: 0, totalSteps: batches.length });
    const pngs: PngImage[] = [];
    try {
      for (const [i, n] of batches.entries()) {
        if (ctx.signal.aborted) throw abortReason(ctx.signal);
        const params = { model: options.model, prompt: spec.prompt, n, size, responseFormat };
        const res = reference ? await post('images/edits', await editsBody(params, reference), deadline, ctx.signal) : await post('images/generations', generationsBody(params), deadline, ctx.signal);
        if (res.status < 200 || res.status >= 300) throw openAIHttpError(where, res.status, res.headers, res.body);
        pngs.push(...(await readOpenAIImages(where, res.body, n, (url) => download(url, deadline, ctx.signal))));
        ctx.onProgress({ step: i + 1, totalSteps: batches.length });
      }
    } catch (error) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      if (error instanceof RetryableError || error instanceof UnrecoverableError) throw error;
      if (error instanceof HttpTimeoutError && error.phase === 'response') throw new RetryableError(`${where} did not finish within ${generationMs} ms`, 'backend_timeout', { cause: error });
      throw transportError(where, error);
    }
    return Promise.all(
      pngs.map(async (png, index) => {
        // Fixed-size models answer at the upstream size; the job promised width×height.
        const out = png.width === spec.width && png.height === spec.height ? png : await cropToPng(png.data, spec.width, spec.height);
        return { kind: 'image', index, seed: seedForImage(spec, index), width: out.width, height: out.height, data: out.data } satisfies GeneratedImage;
      }),
    );
  }

  return {
    kind: 'openai',
    label: options.label ?? `OpenAI Images API (${options.model})`,
    capabilities,
    generate,
    /** Healthy when GET /models answers; a 404/405 counts (compatible servers often lack it), a rejected key does not. */
    async health(signal?: AbortSignal): Promise<boolean> {
      try {
        const res = await httpRequest({ method: 'GET', url: new URL('models', base), headers: auth, connectTimeoutMs: connectMs, timeoutMs: connectMs * 2, ...(signal ? { signal } : {}) });
        return (res.status >= 200 && res.status < 300) || res.status === 404 || res.status === 405;
      } catch {
        return false;
      }
    },
    async close() {
      // Nothing pooled: every request opens its own connection.
    },
  };
}
