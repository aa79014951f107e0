import type { ConditioningCapabilities } from '../jobs/conditioning.js';
import type { JobSpec, Mode } from '../jobs/job-spec.js';
import type { Thumbnail } from '../media/image/thumbnail.js';

/**
 * The sampler names Atelier speaks (A1111's), which backends accept unless configured
 * otherwise; the first is the default.
 */
export const STANDARD_SAMPLERS: readonly string[] = Object.freeze(['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DDIM']);

/**
 * What a backend can do, as data: the domain checks a request against it before queueing.
 * `controlnet` and `guidanceImages` (ConditioningCapabilities) are absent for backends that
 * condition on neither.
 */
export interface BackendCapabilities extends ConditioningCapabilities {
  readonly modes: readonly Mode[];
  /** Sampler names accepted; the first is the default. */
  readonly samplers: readonly string[];
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly maxSteps: number;
  /** Most images one job may ask for. */
  readonly maxBatch: number;
  readonly cancel: boolean;
  readonly preview: boolean;
  /**
   * Runs hires fix on text-to-image: a first pass below the output size, upscaled, then
   * refined at the output size. A request asking for it elsewhere is refused before queueing.
   */
  readonly hiresFix: boolean;
}

export interface Progress {
  readonly step: number;
  readonly totalSteps: number;
}

/** The bytes of a job's input images, loaded by the runner so backends never touch storage. */
export interface GenerateInputs {
  readonly reference?: Buffer;
  readonly start?: Buffer;
  readonly end?: Buffer;
  /** The spec's guidance images, in order. */
  readonly guidance?: readonly Buffer[];
  /** The control images, index-aligned with `spec.controlnet`. */
  readonly controlnet?: readonly Buffer[];
}

/** A live preview of a running job (ComfyUI's binary preview frames, A1111's current_image). */
export interface PreviewImage {
  readonly data: Buffer;
  readonly mime: 'image/jpeg' | 'image/png' | 'image/webp';
}

export interface GenerateContext {
  /** Aborted when the job is canceled or its lease is lost; backends must stop promptly. */
  readonly signal: AbortSignal;
  readonly onProgress: (progress: Progress) => void;
  /**
   * The backend began executing the job (it left the backend's own queue), told once; a backend
   * that reports progress need not call it. Ends the router's warm-up limit: model loading
   * sends no progress, but proves the job started.
   */
  readonly onStarted?: () => void;
  /** Optional live previews; the runner relays them as SSE `preview` events. */
  readonly onPreview?: (preview: PreviewImage) => void;
  readonly inputs?: GenerateInputs;
  /** A directory the backend may write large outputs (videos) into; the runner removes it. */
  readonly workDir?: string;
}

/** One output of a backend, before post-processing. `data` is an encoded PNG. */
export interface GeneratedImage {
  readonly kind: 'image';
  readonly index: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
}

/**
 * A video output: an H.264 MP4 file the backend wrote under `ctx.workDir`. Videos are
 * streamed to storage from the file, never held in memory.
 */
export interface GeneratedVideo {
  readonly kind: 'video';
  readonly index: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frameCount: number;
  readonly file: string;
  /**
   * The middle frame's thumbnail, when the backend encoded the frames itself and kept it
   * (issue #17 §3); otherwise it is taken from the file by seeking.
   */
  readonly thumbnail?: Thumbnail;
}

export type GeneratedOutput = GeneratedImage | GeneratedVideo;

/** A backend's health as the admin view shows it (routing layer: health checks and breakers). */
export interface BackendHealth {
  /** At least one instance can take work. */
  readonly healthy: boolean;
  /** ok: every instance up; degraded: some; down: none. */
  readonly state: 'ok' | 'degraded' | 'down';
  readonly instances: { readonly up: number; readonly total: number };
  /** Jobs running on its instances now. */
  readonly inFlight: number;
  /** The most recent failure (a job's or a health check's), with when it happened. */
  readonly lastError: { readonly message: string; readonly at: string; readonly instance: string } | null;
}

/** One instance's answer to a probe (`Backend.probeInstances`). */
export interface InstanceProbe {
  readonly label: string;
  readonly healthy: boolean;
}

/**
 * What every configured backend is, whether this process runs it or remote workers do
 * (backends/remote): the registry, validation and the API read only this.
 */
export interface BackendInfo {
  /** The technology, e.g. `builtin`, `comfyui`, `remote`. */
  readonly kind: string;
  /** What a user sees, e.g. "Atelier preview renderer". */
  readonly label: string;
  readonly capabilities: BackendCapabilities;
  /** Health per instance, for the admin view; backends without instances (builtin) omit it. */
  healthReport?(): BackendHealth;
}

/**
 * An inference backend. Adapters stay thin: timeouts, retries and metrics live in the runner
 * around any backend; an adapter only turns a JobSpec into outputs and reports progress.
 *
 * @example const outputs = await backend.generate(spec, { signal, onProgress: (p) => log(p.step) })
 */
export interface Backend extends BackendInfo {
  generate(spec: JobSpec, ctx: GenerateContext): Promise<GeneratedOutput[]>;
  /** True when the backend answers and can take work (routing skips unhealthy instances). */
  health?(signal?: AbortSignal): Promise<boolean>;
  /**
   * Asks each instance, in configuration order, whether it answers now, changing no routing
   * state: the start-up check that logs an unreachable backend. Backends without instances omit it.
   */
  probeInstances?(signal: AbortSignal): Promise<readonly InstanceProbe[]>;
  /** Releases connections (WebSockets, agents). */
  close?(): Promise<void>;
}
