import { randomUUID } from 'node:crypto';
import { CanceledError, RetryableError, UnrecoverableError } from '../../errors/signals.js';
import { seedForImage, type JobSpec, type Mode } from '../../jobs/job-spec.js';
import type { Backend, BackendCapabilities, GenerateContext, GeneratedOutput } from '../backend.js';
import { createPreviewRelay, type PreviewRelay } from '../preview-relay.js';
import { applyJobLoras } from './apply-loras.js';
import { bindWorkflow, hasBinding } from './bind-workflow.js';
import { collectOutputs } from './collect-outputs.js';
import { ComfyHttpClient } from './comfyui-http.js';
import { ComfySocket } from './comfyui-socket.js';
import { defaultComfyWorkflows } from './default-workflows.js';
import { modelSettingValues } from './model-settings.js';
import { ProgressTracker } from './progress-tracker.js';
import { runPrompt, type PromptHooks, type PromptRunner } from './run-prompt.js';
import { DEFAULT_COMFY_SAMPLERS, type ComfySampler } from './samplers.js';
import { uploadInputs } from './upload-inputs.js';
import type { WorkflowTemplate } from './workflow-template.js';

/** Options of {@link createComfyUIBackend}. */
export interface ComfyUIBackendOptions {
  /** ComfyUI's base URL, e.g. `http://127.0.0.1:8188` (a path prefix is kept). */
  readonly url: string;
  readonly label?: string;
  /** One API-format template per mode; the modes listed are the backend's. Default: SD1.5 t2i + i2i. */
  readonly workflows?: Partial<Record<Mode, WorkflowTemplate>>;
  /** Bound into each template's `checkpoint` input; unset keeps the template's. */
  readonly checkpoint?: string;
  /** Atelier sampler name → ComfyUI sampler_name + scheduler; the first is the default. */
  readonly samplers?: Readonly<Record<string, ComfySampler>>;
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  readonly maxSteps?: number;
  readonly maxBatch?: number;
  readonly timeouts: {
    /** Opening the socket, health checks, and each withdraw request. */
    readonly connectMs: number;
    /** The whole generate call: uploads, every prompt, downloads. */
    readonly generationMs: number;
  };
  /** The socket's client id (ComfyUI routes a prompt's events to it). Default: random. */
  readonly clientId?: string;
  /** How often history is polled when the socket is down or history lags. Default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Sent with every request and the socket's handshake: ComfyUI behind a proxy with an API key or Basic auth. */
  readonly headers?: Readonly<Record<string, string>>;
}

const isVideo = (mode: Mode) => mode === 't2v' || mode === 'i2v' || mode === 'ti2v';

function assertSupported(spec: JobSpec, caps: BackendCapabilities, samplers: Readonly<Record<string, ComfySampler>>): void {
  const fail = (message: string): never => {
    throw new UnrecoverableError(message, 'capability_unsupported');
  };
  if (!caps.modes.includes(spec.mode)) fail(`This ComfyUI backend has no workflow for mode '${spec.mode}'`);
  if (samplers[spec.sampler] === undefined) fail(`This ComfyUI backend has no sampler '${spec.sampler}'; expected one of ${caps.samplers.join(', ')}`);
  if (!(spec.width >= 8 && spec.width <= caps.maxWidth && spec.height >= 8 && spec.height <= caps.maxHeight)) fail(`This ComfyUI backend cannot render ${spec.width}x${spec.height}`);
  if (!(spec.steps >= 1 && spec.steps <= caps.maxSteps)) fail(`This ComfyUI backend cannot run ${spec.steps} steps`);
  const maxBatch = isVideo(spec.mode) ? 1 : caps.maxBatch;
  if (!(spec.numImages >= 1 && spec.numImages <= maxBatch)) fail(`This ComfyUI backend cannot render ${spec.numImages} outputs in one ${spec.mode} job`);
}

/**
 * A backend that runs jobs on a ComfyUI server through its HTTP + WebSocket API: the mode's
 * template is bound and queued with POST /prompt, progress and previews come from the
 * socket, outputs from GET /view, inputs go up with POST /upload/image, cancel is
 * POST /interrupt. A batch of n images runs n prompts, image i with seed + i: ComfyUI draws a
 * whole `batch_size` batch from one generator, so only this way does every image re-run
 * exactly from its recorded seed. Every wait is bounded by `timeouts`.
 *
 * @example const backend = createComfyUIBackend({ url: 'http://127.0.0.1:8188', timeouts: { connectMs: 5_000, generationMs: 600_000 } })
 */
export function createComfyUIBackend(options: ComfyUIBackendOptions): Backend {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const clientId = options.clientId ?? randomUUID().replaceAll('-', '');
  const wsUrl = new URL(`ws?clientId=${encodeURIComponent(clientId)}`, base);
  wsUrl.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const { connectMs, generationMs } = options.timeouts;
  const workflows = options.workflows ?? defaultComfyWorkflows();
  const samplers = options.samplers ?? DEFAULT_COMFY_SAMPLERS;
  const headers = options.headers ?? {};
  const http = new ComfyHttpClient(base, headers);
  const runner: PromptRunner = { http, socket: new ComfySocket(wsUrl.href, connectMs, headers), clientId, connectMs, pollIntervalMs: options.pollIntervalMs ?? 250 };
  const capabilities: BackendCapabilities = Object.freeze({
    modes: Object.freeze(Object.keys(workflows) as Mode[]),
    samplers: Object.freeze(Object.keys(samplers)),
    maxWidth: options.maxWidth ?? 2048,
    maxHeight: options.maxHeight ?? 2048,
    maxSteps: options.maxSteps ?? 150,
    maxBatch: options.maxBatch ?? 8,
    cancel: true,
    preview: true,
    // No template binds a second pass (hires_fix): refused rather than ignored.
    hiresFix: false,
  });

  async function run(spec: JobSpec, template: WorkflowTemplate, ctx: GenerateContext, signal: AbortSignal, previews: PreviewRelay | undefined): Promise<GeneratedOutput[]> {
    const uploads = await uploadInputs(http, template, spec, ctx.inputs, signal);
    const sampler = samplers[spec.sampler]!;
    const prompts = isVideo(spec.mode) ? 1 : spec.numImages;
    const tracker = new ProgressTracker(spec.steps * prompts, ctx.onProgress);
    const hooks: PromptHooks = { tracker, ...(previews ? { onPreview: previews.offer } : {}), ...(ctx.onStarted ? { onStarted: ctx.onStarted } : {}) };
    const outputs: GeneratedOutput[] = [];
    for (let p = 0; p < prompts; p += 1) {
      if (p > 0) tracker.nextSegment();
      const graph = bindWorkflow(template, {
        ...uploads,
        prompt: spec.prompt,
        negative_prompt: spec.negativePrompt ?? '', // never the template's own negative text
        seed: seedForImage(spec, outputs.length),
        steps: spec.steps,
        cfg: spec.cfgScale,
        sampler_name: sampler.sampler_name,
        scheduler: sampler.scheduler,
        width: spec.width,
        height: spec.height,
        batch_size: hasBinding(template, 'batch_size') ? 1 : undefined,
        denoise: spec.mode === 'i2i' ? spec.denoiseStrength : undefined,
        ...modelSettingValues(template, spec, options.checkpoint), // checkpoint, vae, clip_skip
        frames: spec.numFrames,
        fps: spec.fps,
      });
      applyJobLoras(graph, template, spec);
      const entry = await runPrompt(runner, graph, signal, hooks);
      outputs.push(...(await collectOutputs(http, entry, { spec, firstIndex: outputs.length, signal, ...(ctx.workDir ? { workDir: ctx.workDir } : {}) })));
    }
    tracker.finish();
    return outputs;
  }

  return {
    kind: 'comfyui',
    label: options.label ?? `ComfyUI (${base.host})`,
    capabilities,
    async generate(spec, ctx) {
      assertSupported(spec, capabilities, samplers);
      if (ctx.signal.aborted) throw new CanceledError();
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new RetryableError(`ComfyUI did not finish the job within ${generationMs} ms`, 'backend_timeout')), generationMs);
      const previews = ctx.onPreview ? createPreviewRelay(ctx.onPreview) : undefined;
      try {
        return await run(spec, workflows[spec.mode]!, ctx, AbortSignal.any([ctx.signal, deadline.signal]), previews);
      } catch (error) {
        if (ctx.signal.aborted) throw new CanceledError();
        throw deadline.signal.aborted ? deadline.signal.reason : error;
      } finally {
        clearTimeout(timer);
        previews?.close();
      }
    },
    async health(signal) {
      const timeout = AbortSignal.timeout(connectMs);
      return http.alive(signal ? AbortSignal.any([signal, timeout]) : timeout).catch(() => false);
    },
    close: () => runner.socket.close(),
  };
}
