import { AtelierError } from '../errors/atelier-error.js';
import type { InputImage, Mode } from './job-spec.js';

/**
 * ControlNet conditioning types (seed 002's ControlNet panel). The names are the control
 * families both A1111's ControlNet extension (preprocessor modules `canny`, `depth_midas`,
 * `openpose`, `scribble_pidinet`, `lineart_realistic`) and ComfyUI's preprocessor nodes
 * (Canny, MiDaS depth, OpenPose, Scribble, Lineart) offer for SD 1.5 and SDXL.
 */
export const CONTROLNET_TYPES = ['canny', 'depth', 'pose', 'scribble', 'lineart'] as const;
export type ControlNetType = (typeof CONTROLNET_TYPES)[number];

/** Request-wide ceilings; a backend may allow fewer (its capabilities). */
export const MAX_GUIDANCE_IMAGES = 4;
export const MAX_CONTROLNET_UNITS = 2;

/** One ControlNet unit of a job: its control image, held like a reference image. */
export interface ControlNetUnit {
  readonly type: ControlNetType;
  readonly image: InputImage;
  /** 0 disables the unit, 1 is the model's trained strength, up to 2 (A1111's range). */
  readonly weight: number;
  /** The part of the schedule the unit acts on, as fractions 0–1 (A1111's guidance_start/end). */
  readonly start: number;
  readonly end: number;
}

/** A ControlNet unit as the request names it, after its image is resolved. */
export interface ControlNetRequestUnit {
  readonly type: ControlNetType;
  readonly weight?: number;
  readonly start?: number;
  readonly end?: number;
}

/** What a backend can condition on, as data: none unless it says so. */
export interface ConditioningCapabilities {
  /** ControlNet types the backend applies; empty or absent: none. */
  readonly controlnet?: readonly ControlNetType[];
  /** Most guidance images one job may carry; 0 or absent: none. */
  readonly guidanceImages?: number;
}

/** The request's guidance and control images, already stored and validated. */
export interface ConditioningImages {
  readonly guidance: readonly InputImage[];
  /** Index-aligned with the request's `controlnet` array. */
  readonly controlnet: readonly InputImage[];
}

const CONDITIONED_MODES: readonly Mode[] = ['t2i', 'i2i'];

/**
 * Checks the request's guidance images and ControlNet units against the mode and the
 * backend's capabilities, and returns the spec fields. Unsupported features are
 * `conditioning_unsupported` (422) naming the entry, before anything is queued.
 */
export function resolveConditioning(
  mode: Mode,
  units: readonly ControlNetRequestUnit[] | undefined,
  images: ConditioningImages | undefined,
  capabilities: ConditioningCapabilities,
  modelName: string,
): { guidanceImages?: readonly InputImage[]; controlnet?: readonly ControlNetUnit[] } {
  const guidance = images?.guidance ?? [];
  const requested = units ?? [];
  if (guidance.length === 0 && requested.length === 0) return {};
  if (!CONDITIONED_MODES.includes(mode)) {
    const field = guidance.length > 0 ? 'guidance_images' : 'controlnet';
    throw new AtelierError('invalid_parameter', `${field} applies only to text-to-image and image-to-image`, { field });
  }
  const maxGuidance = capabilities.guidanceImages ?? 0;
  if (guidance.length > maxGuidance) {
    const what = maxGuidance === 0 ? 'takes no guidance images' : `takes at most ${maxGuidance} guidance images`;
    throw new AtelierError('conditioning_unsupported', `Model '${modelName}' ${what} but received ${guidance.length}`, { field: 'guidance_images' });
  }
  const supported = capabilities.controlnet ?? [];
  const controlnet = requested.map((unit, i): ControlNetUnit => {
    if (!supported.includes(unit.type)) {
      const offer = supported.length === 0 ? 'no ControlNet' : `ControlNet types ${supported.join(', ')}`;
      throw new AtelierError('conditioning_unsupported', `Model '${modelName}' offers ${offer}, not '${unit.type}'`, { field: `controlnet[${i}].type` });
    }
    const start = unit.start ?? 0;
    const end = unit.end ?? 1;
    if (start >= end) {
      throw new AtelierError('invalid_parameter', `Expected controlnet[${i}].start below end but received ${start} ≥ ${end}`, { field: `controlnet[${i}].start` });
    }
    const image = images?.controlnet[i];
    if (!image) throw new AtelierError('invalid_parameter', `Expected an image for controlnet[${i}]`, { field: `controlnet[${i}].image` });
    return { type: unit.type, image, weight: unit.weight ?? 1, start, end };
  });
  return { ...(guidance.length > 0 ? { guidanceImages: guidance } : {}), ...(controlnet.length > 0 ? { controlnet } : {}) };
}

/** Every input image a spec holds, with the role its stored copy is named by. */
export function specInputImages(spec: SpecInputs): InputImage[] {
  return [
    ...[spec.reference, spec.startImage, spec.endImage].filter((image): image is InputImage => image !== undefined),
    ...(spec.guidanceImages ?? []),
    ...(spec.controlnet ?? []).map((unit) => unit.image),
  ];
}

/** The input images of a spec, by role. */
export interface SpecInputs {
  readonly reference?: InputImage | undefined;
  readonly startImage?: InputImage | undefined;
  readonly endImage?: InputImage | undefined;
  readonly guidanceImages?: readonly InputImage[] | undefined;
  readonly controlnet?: readonly { readonly image: InputImage }[] | undefined;
}

/** A spec's inputs by role, each turned into something else; roles without an image are absent. */
export interface InputsByRole<T> {
  reference?: T;
  start?: T;
  end?: T;
  /** The guidance images, in order. */
  guidance?: T[];
  /** The control images, index-aligned with the spec's ControlNet units. */
  controlnet?: T[];
}

/** A spec's input image keys by role. */
export function specInputKeys(spec: SpecInputs): InputsByRole<string> {
  return {
    ...(spec.reference ? { reference: spec.reference.key } : {}),
    ...(spec.startImage ? { start: spec.startImage.key } : {}),
    ...(spec.endImage ? { end: spec.endImage.key } : {}),
    ...(spec.guidanceImages?.length ? { guidance: spec.guidanceImages.map((image) => image.key) } : {}),
    ...(spec.controlnet?.length ? { controlnet: spec.controlnet.map((unit) => unit.image.key) } : {}),
  };
}

/**
 * The one walk over inputs by role — reference, start, end, guidance[], controlnet[] —
 * mapping each (all at once) and keeping only the roles present: the runner reads a spec's
 * keys, a claim signs them for a remote worker, the worker downloads the signed URLs.
 *
 * @example await mapInputsByRole(claim.inputs, (url) => download(url))
 */
export async function mapInputsByRole<A, B>(inputs: InputsByRole<A>, map: (value: A) => Promise<B>): Promise<InputsByRole<B>> {
  const one = (value: A | undefined) => (value === undefined ? undefined : map(value));
  const [reference, start, end, guidance, controlnet] = await Promise.all([
    one(inputs.reference),
    one(inputs.start),
    one(inputs.end),
    Promise.all((inputs.guidance ?? []).map(map)),
    Promise.all((inputs.controlnet ?? []).map(map)),
  ]);
  return {
    ...(reference !== undefined ? { reference } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(guidance.length > 0 ? { guidance } : {}),
    ...(controlnet.length > 0 ? { controlnet } : {}),
  };
}

/** {@link mapInputsByRole} over a spec's input image keys. */
export function mapSpecInputs<T>(spec: SpecInputs, map: (key: string) => Promise<T>): Promise<InputsByRole<T>> {
  return mapInputsByRole(specInputKeys(spec), map);
}
