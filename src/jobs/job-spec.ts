/** Generation modes (SPEC §2). Only `t2i` runs today; the others arrive with their issues. */
export type Mode = 't2i' | 'i2i' | 't2v' | 'i2v' | 'ti2v';

export const MODES: readonly Mode[] = ['t2i', 'i2i', 't2v', 'i2v', 'ti2v'];

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
}

/** Seeds are unsigned 32-bit, like A1111 and ComfyUI's defaults. */
export const MAX_SEED = 0xffff_ffff;

/** The seed of image `index` of a batch (SPEC §2): seed + i, wrapping in 32 bits. */
export function seedForImage(spec: Pick<JobSpec, 'seed'>, index: number): number {
  return (spec.seed + index) % (MAX_SEED + 1);
}
