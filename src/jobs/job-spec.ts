import type { BackendSettings } from './backend-settings.js';
import type { ControlNetUnit } from './conditioning.js';
import type { Lora } from './loras.js';

/** Generation modes (SPEC §2). Only `t2i` runs today; the others arrive with their issues. */
export type Mode = 't2i' | 'i2i' | 't2v' | 'i2v' | 'ti2v';

export const MODES: readonly Mode[] = ['t2i', 'i2i', 't2v', 'i2v', 'ti2v'];

/**
 * An input image a job holds from submission to completion (seed 001): stored and
 * validated before the job is queued, described by its metadata.
 */
export interface InputImage {
  /** Storage key of the stored bytes. */
  readonly key: string;
  readonly format: 'png' | 'jpeg' | 'webp';
  readonly width: number;
  readonly height: number;
  /** sha256 of the bytes, so caches can key on content. */
  readonly sha256: string;
  /** Where it came from: an upload or an asset of the same user. */
  readonly source: { readonly uploadId: string } | { readonly assetId: string };
}

/**
 * The one canonical, frozen description of a job after normalisation at the edge. Every
 * later stage (queue, runner, backends, provenance) reads only this. Absence is
 * `undefined`, never a sentinel like -1; the seed is always resolved.
 */
export interface JobSpec {
  readonly mode: Mode;
  readonly model: string;
  readonly prompt: string;
  readonly negativePrompt: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly cfgScale: number;
  readonly sampler: string;
  /** The resolved seed of image 0; image i of a batch uses seed + i. */
  readonly seed: number;
  /** True when the caller fixed the seed, false when Atelier drew it. */
  readonly seedFixed: boolean;
  readonly numImages: number;
  readonly hiresFix: boolean;
  readonly priority: number;
  /** i2i: the reference, center-cropped to width×height by the backend. */
  readonly reference?: InputImage;
  /** i2i: 0 keeps the reference, 1 ignores it. */
  readonly denoiseStrength?: number;
  /** i2i: the exact-copy clamps of SPEC §3 were applied. */
  readonly exactCopy?: boolean;
  /** i2v / ti2v: the first frame. */
  readonly startImage?: InputImage;
  /** i2v / ti2v: the frame the video moves toward. */
  readonly endImage?: InputImage;
  /** Video: number of frames and frames per second. */
  readonly numFrames?: number;
  readonly fps?: number;
  /** t2i / i2i: style and subject guidance images (IP-Adapter-like), held like the reference. */
  readonly guidanceImages?: readonly InputImage[];
  /** t2i / i2i: ControlNet units, each with its held control image. */
  readonly controlnet?: readonly ControlNetUnit[];
  /** LoRAs the request asked for, in its order, checked against the model's `loras`. */
  readonly loras?: readonly Lora[];
  /**
   * The model's backend settings (checkpoint, VAE, its own LoRAs, clip skip) as configured
   * when the job was submitted. Backends apply `appliedLoras(spec)`: these LoRAs, then the request's.
   */
  readonly backendSettings?: BackendSettings;
}

/** Seeds are unsigned 32-bit, like A1111 and ComfyUI's defaults. */
export const MAX_SEED = 0xffff_ffff;

/** The seed of image `index` of a batch (SPEC §2): seed + i, wrapping in 32 bits. */
export function seedForImage(spec: Pick<JobSpec, 'seed'>, index: number): number {
  return (spec.seed + index) % (MAX_SEED + 1);
}
