import { capabilitiesOf, modelsForTab, offersTab, type ModelInfo, type ModelMode, type Tab } from './models';
import { type ImageSlot } from './image-slot';

/** The largest seed (unsigned 32-bit, src/jobs/job-spec.ts MAX_SEED). */
export const MAX_SEED = 0xffff_ffff;

export type SlotName = 'reference' | 'start' | 'end' | 'controlImage';

/**
 * Everything the Generate form holds. Numbers stay numbers (a cleared field is NaN, which
 * the schema check reports); fields the form has no control for, typed into the JSON
 * editor (priority, cache_mode, width…), are kept in `extra` and sent as they are.
 */
export interface FormState {
  readonly tab: Tab;
  readonly prompt: string;
  readonly negativePrompt: string;
  /** Registry name; '' until the model list has loaded. */
  readonly model: string;
  /** One of ASPECT_RATIOS, or '' to let the server decide (the reference's shape or the model's default). */
  readonly aspectRatio: string;
  readonly steps: number;
  readonly cfgScale: number;
  readonly sampler: string;
  /** The fixed seed; sent only while locked. */
  readonly seed: number | null;
  readonly seedLocked: boolean;
  /** The seed the last run actually used, to reuse it. */
  readonly lastSeed: number | null;
  readonly numImages: number;
  readonly hiresFix: boolean;
  // Image to image
  readonly reference?: ImageSlot;
  readonly denoise: number;
  readonly exactCopy: boolean;
  // Video
  readonly start?: ImageSlot;
  readonly end?: ImageSlot;
  readonly durationSeconds: number;
  readonly fps: number;
  // Conditioning (text/image to image)
  readonly guidance: readonly ImageSlot[];
  readonly controlImage?: ImageSlot;
  readonly controlType: string;
  readonly controlWeight: number;
  readonly extra: Readonly<Record<string, unknown>>;
}

export const INITIAL_FORM: FormState = {
  tab: 't2i',
  prompt: '',
  negativePrompt: '',
  model: '',
  aspectRatio: '',
  steps: 30,
  cfgScale: 7.5,
  sampler: 'Euler',
  seed: null,
  seedLocked: false,
  lastSeed: null,
  numImages: 1,
  hiresFix: false,
  denoise: 0.75,
  exactCopy: false,
  durationSeconds: 3,
  fps: 16,
  guidance: [],
  controlType: '',
  controlWeight: 1,
  extra: {},
};

/** The mode a request of this form runs in: video becomes t2v, i2v or ti2v by its frames and model. */
export function effectiveMode(form: Pick<FormState, 'tab' | 'start'>, model: ModelInfo | undefined): ModelMode {
  if (form.tab !== 'video') return form.tab;
  if (!form.start) return 't2v';
  return model?.modes.includes('ti2v') ? 'ti2v' : 'i2v';
}

function supportsMode(model: ModelInfo, mode: ModelMode): boolean {
  if (mode === 'i2v' || mode === 'ti2v') return model.modes.includes('i2v') || model.modes.includes('ti2v');
  return model.modes.includes(mode);
}

/**
 * The model to use for a mode: the current one if it can, else the default, else the first that
 * can. With `strict`, an image-to-video request with an end frame wants a model that uses it
 * (ti2v) when there is one.
 */
export function pickModel(models: readonly ModelInfo[], current: string, mode: ModelMode, tab: Tab, strict = false): ModelInfo | undefined {
  const exact = strict ? models.filter((model) => model.modes.includes(mode)) : [];
  const able = exact.length > 0 ? exact : models.filter((model) => supportsMode(model, mode));
  const pool = able.length > 0 ? able : modelsForTab(models, tab);
  return pool.find((model) => model.name === current) ?? pool.find((model) => model.default) ?? pool[0];
}

const clamp = (value: number, min: number, max: number) => (Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : value);

/**
 * Fits the form to a model: steps and images within its limits, a sampler it has. Settings
 * still at the previous model's defaults follow the new model's defaults (they were never chosen).
 */
export function applyModel(form: FormState, model: ModelInfo, previous?: ModelInfo): FormState {
  const untouched = (value: number, key: 'steps' | 'cfgScale') => !previous || value === previous.defaults[key];
  const steps = untouched(form.steps, 'steps') ? model.defaults.steps : form.steps;
  const cfgScale = untouched(form.cfgScale, 'cfgScale') ? model.defaults.cfgScale : form.cfgScale;
  const samplerKept = model.samplers.includes(form.sampler) && !(previous && form.sampler === previous.defaults.sampler);
  const caps = capabilitiesOf(model);
  return {
    ...form,
    model: model.name,
    steps: clamp(steps, 1, model.limits.maxSteps),
    cfgScale: clamp(cfgScale, 0, 30),
    sampler: samplerKept ? form.sampler : model.defaults.sampler,
    numImages: clamp(form.numImages, 1, model.limits.maxImages),
    // Conditioning the model cannot take is dropped rather than sent to be refused.
    guidance: form.guidance.slice(0, caps.guidanceImages),
    ...(caps.hiresFix ? {} : { hiresFix: false }),
    ...(caps.controlnet.length === 0 ? { controlImage: undefined, controlType: '' } : caps.controlnet.includes(form.controlType) ? {} : { controlType: caps.controlnet[0]! }),
  };
}

export type FormAction =
  | { readonly type: 'init'; readonly models: readonly ModelInfo[] }
  | { readonly type: 'set'; readonly patch: Partial<Omit<FormState, 'tab' | 'model'>> }
  | { readonly type: 'tab'; readonly tab: Tab; readonly models: readonly ModelInfo[] }
  | { readonly type: 'model'; readonly name: string; readonly models: readonly ModelInfo[] }
  | { readonly type: 'seed'; readonly seed: number | null }
  | { readonly type: 'lock'; readonly locked: boolean; readonly random: number }
  | { readonly type: 'ran'; readonly seed: number }
  | { readonly type: 'slot'; readonly slot: SlotName; readonly value: ImageSlot | undefined; readonly models: readonly ModelInfo[] }
  | { readonly type: 'slot-update'; readonly key: string; readonly patch: Partial<ImageSlot> }
  | { readonly type: 'guidance-add'; readonly slots: readonly ImageSlot[] }
  | { readonly type: 'guidance-remove'; readonly key: string }
  | { readonly type: 'replace'; readonly form: FormState }
  /** A change computed from the current state (a draft or JSON edit applied on top of it). */
  | { readonly type: 'apply'; readonly apply: (form: FormState) => FormState };

/** The Generate form's reducer: every transition is pure and tested (test/web/generate). */
export function formReducer(form: FormState, action: FormAction): FormState {
  switch (action.type) {
    case 'init': {
      const model = pickModel(action.models, form.model, effectiveMode(form, undefined), form.tab);
      return model ? applyModel(form, model, form.model ? action.models.find((m) => m.name === form.model) : undefined) : form;
    }
    case 'set':
      return { ...form, ...action.patch };
    case 'tab': {
      const next = { ...form, tab: action.tab };
      return switchModel(next, action.models, form.model);
    }
    case 'model': {
      const model = action.models.find((m) => m.name === action.name);
      const previous = action.models.find((m) => m.name === form.model);
      return model ? applyModel(form, model, previous) : form;
    }
    case 'seed':
      // Typing a seed fixes it; clearing the field goes back to random.
      return action.seed === null ? { ...form, seed: null, seedLocked: false } : { ...form, seed: clamp(action.seed, -1, MAX_SEED), seedLocked: action.seed >= 0 };
    case 'lock':
      return action.locked ? { ...form, seedLocked: true, seed: form.seed ?? form.lastSeed ?? action.random } : { ...form, seedLocked: false };
    case 'ran':
      // Unlocked, the field shows the seed just used so it can be kept ("reuse").
      return { ...form, lastSeed: action.seed, ...(form.seedLocked ? {} : { seed: action.seed }) };
    case 'slot': {
      const next = { ...form, [action.slot]: action.value };
      // A start frame decides between text-to-video and image-to-video, an end frame wants a
      // model that uses it (ti2v): follow with the model.
      return action.slot === 'start' || (action.slot === 'end' && action.value) ? switchModel(next, action.models, form.model) : next;
    }
    case 'slot-update':
      return updateSlot(form, action.key, action.patch);
    case 'guidance-add':
      return { ...form, guidance: [...form.guidance, ...action.slots] };
    case 'guidance-remove':
      return { ...form, guidance: form.guidance.filter((slot) => slot.key !== action.key) };
    case 'replace':
      return action.form;
    case 'apply':
      return action.apply(form);
  }
}

function switchModel(form: FormState, models: readonly ModelInfo[], previousName: string): FormState {
  const current = models.find((m) => m.name === form.model);
  const wantsEnd = form.tab === 'video' && !!form.start && !!form.end;
  const mode = wantsEnd ? 'ti2v' : effectiveMode(form, current);
  const model = pickModel(models, form.model, mode, form.tab, wantsEnd);
  if (!model) return form;
  if (model.name === form.model && offersTab(model, form.tab)) return form;
  return applyModel(form, model, models.find((m) => m.name === previousName));
}

function updateSlot(form: FormState, key: string, patch: Partial<ImageSlot>): FormState {
  const update = (slot: ImageSlot | undefined) => (slot && slot.key === key ? { ...slot, ...patch } : slot);
  return {
    ...form,
    reference: update(form.reference),
    start: update(form.start),
    end: update(form.end),
    controlImage: update(form.controlImage),
    guidance: form.guidance.map((slot) => update(slot)!),
  };
}

/** A random fixed seed (the dice). */
export function drawSeed(random: () => number = Math.random): number {
  return Math.floor(random() * (MAX_SEED + 1));
}

/** The seed a request sends: the fixed one while locked, else -1 (the server draws one). */
export function requestSeed(form: Pick<FormState, 'seed' | 'seedLocked'>): number {
  return form.seedLocked && form.seed !== null && Number.isFinite(form.seed) ? form.seed : -1;
}
