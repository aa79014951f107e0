/**
 * The remote lane as a Backend, so the Backend contract suite can run against it through the
 * same port as every in-process adapter: each `generate` is one job submitted to a real Atelier
 * server over HTTP, run there on a remote backend by whatever workers serve it, and followed
 * over SSE until it ends. Test-side only: nothing in src/ drives a remote lane this way.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, BackendCapabilities, GenerateContext, GeneratedOutput, PreviewImage } from '../../src/backends/backend.js';
import { abortReason } from '../../src/backends/a1111/abort-reason.js';
import { readServerSentEvents } from '../../src/cli/sse-client.js';
import { errorCatalog, type ErrorCode } from '../../src/errors/catalog.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../src/errors/signals.js';
import type { JobSpec, Mode } from '../../src/jobs/job-spec.js';

export interface RemoteLaneOptions {
  /** The Atelier server, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** An API token (a user's or the admin's). */
  readonly token: string;
  /** The registry model the lane renders each mode with; every one on the same remote backend. */
  readonly models: Partial<Record<Mode, string>>;
  /** How long a lost event stream is reconnected before the job counts as failed. Default 5 s. */
  readonly reconnectMs?: number;
  /** Called each time a run's lost event stream is opened again (for tests to see that it was). */
  readonly onResume?: (runId: string) => void;
}

/** The run as GET /api/status answers (the fields used here). */
interface RunView {
  readonly runId: string;
  readonly status: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly assets: readonly { readonly type: 'image' | 'video'; readonly index: number; readonly url: string; readonly metadata: Record<string, unknown> }[];
}

/** The model as GET /api/models lists it (the fields used here). */
interface ModelView {
  readonly name: string;
  readonly modes: readonly Mode[];
  readonly backend: { readonly kind: string; readonly label: string };
  readonly limits: { readonly maxWidth: number; readonly maxHeight: number; readonly maxSteps: number; readonly maxImages: number };
  readonly samplers: readonly string[];
  readonly capabilities: { readonly controlnet: readonly string[]; readonly guidanceImages: number; readonly hiresFix?: boolean };
}

const ROUTES: Record<Mode, string> = { t2i: 'text-to-image', i2i: 'image-to-image', t2v: 'text-to-video', i2v: 'image-to-video', ti2v: 'image-to-video' };
const IMAGE_MODES = new Set<Mode>(['t2i', 'i2i']);

/**
 * What the server's refusal means to the runner: a 4xx will be refused again (unrecoverable),
 * a 5xx, 408 or 429 may pass. The code is the server's own.
 */
function refusal(what: string, status: number, body: unknown): Error {
  const { code, message } = (body ?? {}) as { code?: string; message?: string };
  const text = `${what}: ${message ?? `HTTP ${status}`}`;
  const stable = (code ?? (status >= 500 ? 'backend_failed' : 'invalid_parameter')) as ErrorCode;
  return status >= 500 || status === 408 || status === 429 ? new RetryableError(text, stable) : new UnrecoverableError(text, stable);
}

/** A failed run whose last attempt ended it: retryable or not by its code's HTTP status, as classifyError treats an AtelierError. */
function failedAtLastAttempt(error: { code: string; message: string }): Error {
  const status = (errorCatalog as Record<string, { status: number } | undefined>)[error.code]?.status ?? 500;
  return status >= 500 ? new RetryableError(error.message, error.code as ErrorCode) : new UnrecoverableError(error.message, error.code as ErrorCode);
}

const unreachable = (what: string, error: unknown) => new RetryableError(`${what}: the server did not answer (${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)})`, 'backend_failed', { cause: error });

/**
 * Connects to the lane: reads its capabilities from GET /api/models (modes, samplers and limits
 * of the models' remote backend). `cancel` and `preview` are not in that listing: every run can
 * be canceled (POST /api/runs/{id}/cancel), and previews are whatever the workers relay.
 *
 * How a job maps onto the port:
 * - progress and previews: the run's SSE `progress` and `preview` events; a dropped stream is
 *   resumed with Last-Event-ID (nothing durable is missed), for up to `reconnectMs`;
 * - cancel: `ctx.signal` cancels the run, then rejects with the signal's reason;
 * - outputs: the run's assets, originals downloaded, index/seed/size from their metadata;
 * - failure: one `generate` is one attempt, as for every adapter (the runner retries around
 *   it). A `retrying` event is the server classifying the attempt retryable: the run is
 *   canceled so it does not run again behind the caller, and a RetryableError carries its
 *   code. `failed` with attempts left means the server chose not to retry (unrecoverable);
 *   `failed` at the last attempt is classified by its code's HTTP status. Configure the
 *   server with maxAttempts ≥ 2 and a long backoff so the distinction exists and no retry
 *   starts before the cancel.
 * - refusals: the API's 4xx answers are unrecoverable with the API's code, before any worker
 *   sees the job. Only what cannot be put into a request at all (i2v/ti2v without a start
 *   image on a lane that declares neither) is refused here.
 *
 * @example const backend = await connectRemoteLane({ url: t.url, token: t.adminToken, models: { t2i: 'sdxl-remote', i2i: 'sdxl-remote' } });
 */
export async function connectRemoteLane(options: RemoteLaneOptions): Promise<Backend> {
  const base = options.url.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${options.token}` };
  const reconnectMs = options.reconnectMs ?? 5_000;
  const streams = new Set<AbortController>();

  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: any }> {
    let response: Response;
    try {
      const json = body !== undefined && !(body instanceof FormData);
      response = await fetch(`${base}${path}`, {
        method,
        headers: { ...auth, ...(json ? { 'content-type': 'application/json' } : {}) },
        ...(body === undefined ? {} : { body: json ? JSON.stringify(body) : (body as FormData) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw unreachable(`${method} ${path}`, error);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed };
  }

  async function expectOk(method: string, path: string, body?: unknown, ok = [200]): Promise<any> {
    const res = await call(method, path, body);
    if (!ok.includes(res.status)) throw refusal(`${method} ${path}`, res.status, res.body);
    return res.body;
  }

  const listed = ((await expectOk('GET', '/api/models')).models as ModelView[]).filter((m) => Object.values(options.models).includes(m.name));
  const first = listed[0];
  if (!first) throw new Error(`None of the models ${Object.values(options.models).join(', ')} is listed by ${base}/api/models`);
  for (const model of listed) if (model.backend.kind !== 'remote') throw new Error(`Model ${model.name} runs on a ${model.backend.kind} backend, not a remote lane`);
  const modes = (Object.keys(options.models) as Mode[]).filter((mode) => listed.find((m) => m.name === options.models[mode])?.modes.includes(mode));
  const capabilities: BackendCapabilities = Object.freeze({
    modes: Object.freeze(modes),
    samplers: Object.freeze([...first.samplers]),
    maxWidth: first.limits.maxWidth,
    maxHeight: first.limits.maxHeight,
    maxSteps: first.limits.maxSteps,
    maxBatch: first.limits.maxImages,
    cancel: true,
    preview: true,
    hiresFix: first.capabilities.hiresFix ?? false,
    controlnet: Object.freeze([...first.capabilities.controlnet]) as BackendCapabilities['controlnet'],
    guidanceImages: first.capabilities.guidanceImages,
  });

  async function upload(image: Buffer, name: string): Promise<{ upload_id: string }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(image)]), `${name}.png`);
    return { upload_id: (await expectOk('POST', '/api/uploads', form, [201])).uploadId as string };
  }

  /** The request body of `spec` for its route, inputs uploaded first. */
  async function requestBody(spec: JobSpec, ctx: GenerateContext): Promise<Record<string, unknown>> {
    const video = !IMAGE_MODES.has(spec.mode);
    const inputs = ctx.inputs ?? {};
    return {
      prompt: spec.prompt,
      ...(spec.negativePrompt !== undefined ? { negative_prompt: spec.negativePrompt } : {}),
      model: options.models[spec.mode] ?? first!.name,
      width: spec.width,
      height: spec.height,
      steps: spec.steps,
      cfg_scale: spec.cfgScale,
      sampler: spec.sampler,
      seed: spec.seed,
      priority: spec.priority,
      ...(video ? { ...(spec.numFrames !== undefined ? { num_frames: spec.numFrames } : {}), ...(spec.fps !== undefined ? { fps: spec.fps } : {}) } : { num_images: spec.numImages, hires_fix: spec.hiresFix }),
      ...(spec.mode === 'i2i' && inputs.reference ? { reference_image: await upload(inputs.reference, 'reference') } : {}),
      ...(spec.mode === 'i2i' && spec.denoiseStrength !== undefined ? { denoise_strength: spec.denoiseStrength } : {}),
      ...(inputs.start && (spec.mode === 'i2v' || spec.mode === 'ti2v') ? { start_image: await upload(inputs.start, 'start') } : {}),
      ...(inputs.end && (spec.mode === 'i2v' || spec.mode === 'ti2v') ? { end_image: await upload(inputs.end, 'end') } : {}),
    };
  }

  /** Cancels the run, best effort and briefly: a run that already ended answers 409. */
  async function cancelRun(runId: string): Promise<void> {
    await call('POST', `/api/runs/${runId}/cancel`, undefined, AbortSignal.timeout(1_000)).catch(() => undefined);
  }

  /** Follows the run's events until it ends; resolves with the run when it succeeded. */
  async function follow(runId: string, ctx: GenerateContext, signal: AbortSignal): Promise<RunView> {
    let lastEventId: string | undefined;
    let lostSince: number | undefined;
    for (let retry = 0; ; retry++) {
      if (retry > 0) options.onResume?.(runId);
      const stream = new AbortController();
      const stop = () => stream.abort();
      signal.addEventListener('abort', stop, { once: true });
      streams.add(stream);
      try {
        const res = await fetch(`${base}/api/status/stream/${runId}`, { headers: { ...auth, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: stream.signal });
        if (!res.ok || !res.body) throw refusal(`GET /api/status/stream/${runId}`, res.status, await res.json().catch(() => undefined));
        for await (const event of readServerSentEvents(res.body)) {
          lostSince = undefined;
          if (event.id) lastEventId = event.id;
          const data = JSON.parse(event.data) as Record<string, any>;
          if (event.event === 'progress') ctx.onProgress({ step: data.step, totalSteps: data.totalSteps });
          else if (event.event === 'preview') ctx.onPreview?.(previewOf(data));
          else if (event.event === 'succeeded') return await expectOk('GET', `/api/status/${runId}`);
          else if (event.event === 'canceled') throw new CanceledError('The run was canceled on the server');
          else if (event.event === 'retrying') {
            await cancelRun(runId);
            throw new RetryableError(data.error?.message ?? 'The attempt failed', (data.error?.code ?? 'backend_failed') as ErrorCode);
          } else if (event.event === 'failed') {
            const run = (await expectOk('GET', `/api/status/${runId}`)) as RunView;
            const error = run.error ?? data.error ?? { code: 'job_failed', message: 'The job failed' };
            throw run.attempts < run.maxAttempts ? new UnrecoverableError(error.message, error.code as ErrorCode) : failedAtLastAttempt(error);
          }
        }
        // The stream ended without the run ending (the server closed it): resume below.
      } catch (error) {
        if (signal.aborted || error instanceof RetryableError || error instanceof UnrecoverableError || error instanceof CanceledError) throw error;
        // A dropped connection: resume below.
      } finally {
        signal.removeEventListener('abort', stop);
        streams.delete(stream);
        stream.abort();
      }
      lostSince ??= Date.now();
      if (Date.now() - lostSince > reconnectMs) throw new RetryableError(`Lost the event stream of run ${runId} for ${reconnectMs} ms`, 'backend_failed');
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, 20 * (retry + 1))));
    }
  }

  /** The run's assets as outputs: the originals' bytes (videos written to workDir), index, seed and size from their metadata. */
  async function outputsOf(run: RunView, ctx: GenerateContext): Promise<GeneratedOutput[]> {
    const assets = [...run.assets].sort((a, b) => a.index - b.index);
    return Promise.all(
      assets.map(async (asset): Promise<GeneratedOutput> => {
        const res = await fetch(asset.url).catch((error: unknown) => {
          throw unreachable(`downloading asset ${asset.index} of run ${run.runId}`, error);
        });
        if (!res.ok) throw new RetryableError(`Downloading asset ${asset.index} of run ${run.runId} answered HTTP ${res.status}`, 'backend_failed');
        const data = Buffer.from(await res.arrayBuffer());
        const m = asset.metadata;
        const common = { index: asset.index, seed: Number(m.seed), width: Number(m.width), height: Number(m.height) };
        if (asset.type === 'image') return { kind: 'image', ...common, data };
        if (!ctx.workDir) throw new UnrecoverableError('A video output needs ctx.workDir', 'job_failed');
        const file = join(ctx.workDir, `${asset.index}.mp4`);
        await writeFile(file, data);
        return { kind: 'video', ...common, fps: Number(m.fps), frameCount: Number(m.frame_count), file };
      }),
    );
  }

  return {
    kind: 'remote',
    label: `${first.backend.label} at ${base}`,
    capabilities,

    async generate(spec, ctx) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      if ((spec.mode === 'i2v' || spec.mode === 'ti2v') && !ctx.inputs?.start) {
        // The API cannot ask for these without a start image (image-to-video picks i2v or ti2v by model).
        if (!capabilities.modes.includes(spec.mode)) throw new UnrecoverableError(`The lane declares no ${spec.mode}`, 'capability_unsupported');
        throw new UnrecoverableError(`An ${spec.mode} job needs its start image`, 'invalid_parameter');
      }
      // Not abortable: a submit cut short might still have queued the run, unseen. A cancel
      // that lands meanwhile cancels the run once its id is known.
      const submitted = await expectOk('POST', `/api/generate/${ROUTES[spec.mode]}`, await requestBody(spec, ctx), [202]);
      const runId = submitted.runId as string;
      const inner = new AbortController();
      const onAbort = () => inner.abort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (ctx.signal.aborted) throw abortReason(ctx.signal);
        return await outputsOf(await follow(runId, ctx, inner.signal), ctx);
      } catch (error) {
        if (!ctx.signal.aborted) throw error;
        await cancelRun(runId);
        throw abortReason(ctx.signal);
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },

    async health(signal) {
      const res = await fetch(`${base}/readyz`, signal ? { signal } : {}).catch(() => undefined);
      return res?.ok ?? false;
    },

    async close() {
      for (const stream of streams) stream.abort();
    },
  };
}

/** A `preview` event's data URL as the port's PreviewImage. */
function previewOf(data: Record<string, any>): PreviewImage {
  const image = String(data.image);
  return { mime: data.mime as PreviewImage['mime'], data: Buffer.from(image.slice(image.indexOf(',') + 1), 'base64') };
}
