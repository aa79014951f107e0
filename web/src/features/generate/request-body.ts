import { ASPECT_RATIOS, sizeForRatio } from '../../../../src/jobs/aspect-ratio';
import type { Draft } from './draft';
import { effectiveMode, requestSeed, type FormState } from './form-state';
import { isImageRef, readyRef, slotFromRef, type ImageSlot } from './image-slot';
import { capabilitiesOf, type ModelInfo, type ModelMode, type Tab } from './models';

export type RequestBody = Record<string, unknown>;

const ENDPOINTS: Record<ModelMode, string> = {
  t2i: '/api/generate/text-to-image',
  i2i: '/api/generate/image-to-image',
  t2v: '/api/generate/text-to-video',
  i2v: '/api/generate/image-to-video',
  ti2v: '/api/generate/image-to-video',
};

export function endpointFor(mode: ModelMode): string {
  return ENDPOINTS[mode];
}

/** The body fields the form controls in each tab; anything else a JSON edit adds goes to `extra`. */
const COMMON = ['prompt', 'negative_prompt', 'model', 'aspect_ratio', 'steps', 'cfg_scale', 'sampler', 'seed'];
const CONDITIONING = ['guidance_images', 'controlnet'];
const TAB_FIELDS: Record<Tab, ReadonlySet<string>> = {
  t2i: new Set([...COMMON, 'num_images', 'hires_fix', ...CONDITIONING]),
  i2i: new Set([...COMMON, 'num_images', 'reference_image', 'denoise_strength', 'exact_copy_mode', ...CONDITIONING]),
  video: new Set([...COMMON, 'start_image', 'end_image', 'duration_seconds', 'fps']),
};

/**
 * The request body of the form, in the API's snake_case (src/api/schemas/generate.ts).
 * Images still uploading are left out (Generate waits for them).
 */
export function formToBody(form: FormState, model?: ModelInfo): RequestBody {
  const body: RequestBody = { prompt: form.prompt };
  if (form.negativePrompt !== '') body.negative_prompt = form.negativePrompt;
  if (form.model) body.model = form.model;
  if (form.aspectRatio) body.aspect_ratio = form.aspectRatio;
  body.steps = form.steps;
  body.cfg_scale = form.cfgScale;
  body.sampler = form.sampler;
  body.seed = requestSeed(form);
  if (form.tab !== 'video') body.num_images = form.numImages;
  // Text-to-image only: the server refuses hires fix elsewhere (parameter_unsupported).
  if (form.tab === 't2i') body.hires_fix = form.hiresFix;
  if (form.tab === 'i2i') {
    const reference = readyRef(form.reference);
    if (reference) body.reference_image = reference;
    body.denoise_strength = form.denoise;
    body.exact_copy_mode = form.exactCopy;
  }
  if (form.tab === 'video') {
    const start = readyRef(form.start);
    // A model that takes a start frame only would ignore the end frame (and charge for it): it
    // is not sent, and the form says so (problems.ts endFrameNote).
    const end = !model || model.modes.includes('ti2v') ? readyRef(form.end) : undefined;
    if (start) body.start_image = start;
    if (end) body.end_image = end;
    body.duration_seconds = form.durationSeconds;
    body.fps = form.fps;
  }
  if (form.tab !== 'video') {
    const guidance = form.guidance.map(readyRef).filter((ref) => ref !== undefined);
    if (guidance.length > 0) body.guidance_images = guidance;
    const control = readyRef(form.controlImage);
    const caps = capabilitiesOf(model);
    if (control && form.controlType && (!model || caps.controlnet.length > 0)) {
      body.controlnet = [{ image: control, type: form.controlType, weight: form.controlWeight }];
    }
  }
  return { ...body, ...form.extra };
}

/** The endpoint and body the Generate button sends. */
export function requestFor(form: FormState, model: ModelInfo | undefined): { mode: ModelMode; path: string; body: RequestBody } {
  const mode = effectiveMode(form, model);
  return { mode, path: endpointFor(mode), body: formToBody(form, model) };
}

const num = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
const str = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
const bool = (value: unknown, fallback: boolean) => (typeof value === 'boolean' ? value : fallback);

function slotFor(value: unknown, previous: ImageSlot | undefined, previewUrl?: string): ImageSlot | undefined {
  if (isImageRef(value)) return slotFromRef(value, previous, previewUrl);
  // A slot still uploading has no ref in the body yet: keep it.
  return previous && previous.status !== 'ready' ? previous : undefined;
}

/**
 * The form a request body describes (a JSON edit or a draft), on top of the current form:
 * uploads in flight and local previews survive, fields the form has no control for go to
 * `extra`. Fields absent from the body fall back to the model's defaults.
 */
export function bodyToForm(body: RequestBody, form: FormState, models: readonly ModelInfo[]): FormState {
  const modelName = str(body.model, form.model);
  const model = models.find((m) => m.name === modelName);
  const defaults = model?.defaults;
  const known = TAB_FIELDS[form.tab];
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!known.has(key)) extra[key] = value;

  const seed = body.seed;
  const fixedSeed = typeof seed === 'number' && seed >= 0 ? seed : null;
  const next: FormState = {
    ...form,
    prompt: str(body.prompt, ''),
    negativePrompt: str(body.negative_prompt, ''),
    model: modelName,
    aspectRatio: str(body.aspect_ratio, ''),
    steps: num(body.steps, defaults?.steps ?? form.steps),
    cfgScale: num(body.cfg_scale, defaults?.cfgScale ?? form.cfgScale),
    sampler: str(body.sampler, defaults?.sampler ?? form.sampler),
    seed: fixedSeed ?? (typeof seed === 'number' ? form.seed : null),
    seedLocked: fixedSeed !== null,
    extra,
  };
  if (form.tab === 'video') {
    return {
      ...next,
      start: slotFor(body.start_image, form.start),
      end: slotFor(body.end_image, form.end),
      durationSeconds: num(body.duration_seconds, form.durationSeconds),
      fps: num(body.fps, form.fps),
    };
  }
  const controlnet = Array.isArray(body.controlnet) ? (body.controlnet[0] as Record<string, unknown> | undefined) : undefined;
  const guidanceRefs = Array.isArray(body.guidance_images) ? body.guidance_images : [];
  const conditioned: FormState = {
    ...next,
    numImages: num(body.num_images, 1),
    hiresFix: bool(body.hires_fix, false),
    guidance: [
      ...guidanceRefs.map((ref, i) => slotFor(ref, form.guidance.filter((s) => s.status === 'ready')[i])).filter((slot): slot is ImageSlot => !!slot),
      ...form.guidance.filter((slot) => slot.status !== 'ready'),
    ],
    controlImage: slotFor(controlnet?.image, form.controlImage),
    controlType: str(controlnet?.type, form.controlType),
    controlWeight: num(controlnet?.weight, form.controlWeight),
  };
  if (form.tab !== 'i2i') return conditioned;
  return {
    ...conditioned,
    reference: slotFor(body.reference_image, form.reference),
    denoise: num(body.denoise_strength, 0.75),
    exactCopy: bool(body.exact_copy_mode, false),
  };
}

/** camelCase names of a job's parameters (the job view) → the request's snake_case. */
const CAMEL_TO_SNAKE: Record<string, string> = {
  negativePrompt: 'negative_prompt',
  cfgScale: 'cfg_scale',
  numImages: 'num_images',
  hiresFix: 'hires_fix',
  denoiseStrength: 'denoise_strength',
  exactCopy: 'exact_copy_mode',
  exactCopyMode: 'exact_copy_mode',
  aspectRatio: 'aspect_ratio',
  numFrames: 'num_frames',
  durationSeconds: 'duration_seconds',
  referenceImage: 'reference_image',
  startImage: 'start_image',
  endImage: 'end_image',
  guidanceImages: 'guidance_images',
};

/** An input image as a job view shows it ({uploadId} / {assetId}) or as a request names it. */
function toRef(value: unknown): unknown {
  if (isImageRef(value)) return value;
  if (value && typeof value === 'object') {
    const { assetId, uploadId } = value as { assetId?: unknown; uploadId?: unknown };
    if (typeof assetId === 'string') return { asset_id: assetId };
    if (typeof uploadId === 'string') return { upload_id: uploadId };
  }
  return undefined;
}

/**
 * A draft's params (a job's parameters, camelCase, or a request body) as a request body for
 * the draft's tab. Width × height becomes the aspect ratio whose bucket it is at the model's
 * base resolution (else it stays an explicit size); frames become
 * a duration; fields that are not part of a request (priority 0, the run's own bookkeeping) drop out.
 */
export function draftBody(draft: Draft, baseResolution?: number): RequestBody {
  const body: RequestBody = {};
  for (const [key, value] of Object.entries(draft.params)) {
    if (value === null || value === undefined) continue;
    body[CAMEL_TO_SNAKE[key] ?? key] = value;
  }
  for (const key of ['reference_image', 'start_image', 'end_image']) {
    if (key in body) {
      const ref = toRef(body[key]);
      if (ref) body[key] = ref;
      else delete body[key];
    }
  }
  if (typeof body.width === 'number' && typeof body.height === 'number' && body.aspect_ratio === undefined) {
    // Only when lossless: the ratio must resolve to exactly this size for the model, else
    // the reused run would render at another size (an explicit 320×256 is not "5:4 at 1024").
    const ratio = bucketAspectRatio(body.width, body.height, baseResolution);
    if (ratio) {
      body.aspect_ratio = ratio;
      delete body.width;
      delete body.height;
    }
  }
  if (typeof body.num_frames === 'number' && typeof body.fps === 'number' && body.fps > 0 && draft.mode === 'video') {
    body.duration_seconds = Math.round((body.num_frames / body.fps) * 100) / 100;
    delete body.num_frames;
  }
  if (body.priority === 0) delete body.priority;
  if (draft.mode !== 'video') delete body.fps;
  if (draft.mode !== 'i2i') for (const key of ['denoise_strength', 'exact_copy_mode', 'reference_image']) delete body[key];
  if (draft.mode === 'video') delete body.num_images;
  if (draft.mode !== 't2i') delete body.hires_fix;
  if (draft.reference) body.reference_image = { asset_id: draft.reference.assetId };
  return body;
}

/** The aspect ratio whose bucket at this base resolution is exactly width × height (as the server sizes it). */
export function bucketAspectRatio(width: number, height: number, baseResolution: number | undefined): string | undefined {
  if (!baseResolution) return undefined;
  return ASPECT_RATIOS.find((ratio) => {
    const [w, h] = ratio.split(':').map(Number) as [number, number];
    const size = sizeForRatio(w / h, baseResolution);
    return size.width === width && size.height === height;
  });
}

/** The form a draft describes: tab, fields, and the reference with its preview. */
export function formFromDraft(draft: Draft, form: FormState, models: readonly ModelInfo[]): FormState {
  const onTab: FormState = { ...form, tab: draft.mode };
  const modelName = typeof draft.params.model === 'string' ? draft.params.model : form.model;
  const base = models.find((m) => m.name === modelName)?.defaults.width;
  const body = draftBody(draft, base);
  const next = bodyToForm(body, onTab, models);
  if (draft.reference && draft.mode === 'i2i') {
    return { ...next, reference: slotFromRef({ asset_id: draft.reference.assetId }, undefined, draft.reference.url) };
  }
  return next;
}
