import type { FormState } from './form-state';
import type { ImageSlot } from './image-slot';
import type { ModelInfo, ModelMode } from './models';
import { checkSchema, formatProblem, requestSchema, type OpenApiDocument } from './schema-check';
import type { RequestBody } from './request-body';

/** Images the form asks for with its own controls; their absence is a hint, not an error. */
const FORM_IMAGES = new Set(['reference_image', 'start_image']);

/** What the schema check says about a body typed into the JSON editor (empty when unchecked or valid), by JSON key. */
export function schemaProblems(doc: OpenApiDocument | undefined, path: string, body: RequestBody): string[] {
  const found = doc ? requestSchema(doc, path) : undefined;
  if (!found) return [];
  return checkSchema(found.schema, body, found.resolve)
    .filter((problem) => !(FORM_IMAGES.has(problem.path) && problem.message === 'is required'))
    .map(formatProblem);
}

/**
 * Why Generate cannot run yet, in words for the button's hint (things still to do, not
 * errors): no model, an empty prompt, a missing image, uploads in flight.
 */
export function blockingReason(form: FormState, model: ModelInfo | undefined, mode: ModelMode): string | undefined {
  if (!model) return 'No model offers this mode on this server';
  if (form.prompt.trim() === '' && mode !== 'i2i' && mode !== 'i2v') return 'Write a prompt to generate';
  if (form.tab === 'i2i' && !form.reference) return 'Add a reference image to generate';
  const slots = tabSlots(form);
  if (slots.some((slot) => slot.status === 'uploading')) return 'Waiting for uploads to finish…';
  if (slots.some((slot) => slot.status === 'error')) return 'Remove the image that failed to upload';
  if (form.tab === 'video' && form.start && !model.modes.some((m) => m === 'i2v' || m === 'ti2v')) {
    return `${model.name} makes videos from text only: remove the start frame or pick another model`;
  }
  if (form.tab === 'video' && form.end && !form.start) return 'An end frame needs a start frame';
  return undefined;
}

/** The input images the current tab sends (others stay in the form for when the tab comes back). */
export function tabSlots(form: FormState): ImageSlot[] {
  const slots = form.tab === 'video' ? [form.start, form.end] : [form.tab === 'i2i' ? form.reference : undefined, form.controlImage, ...form.guidance];
  return slots.filter((slot): slot is ImageSlot => !!slot);
}

/**
 * Says at once when the chosen video model will not use the end frame (it takes a start frame
 * only), naming a model that would; the end frame is then not sent (nor charged).
 */
export function endFrameNote(form: FormState, model: ModelInfo | undefined, models: readonly ModelInfo[]): string | undefined {
  if (form.tab !== 'video' || !form.end || !model || usesEndFrame(model)) return undefined;
  const able = models.find(usesEndFrame);
  return `${model.name} ignores the end frame, so it will not be sent.${able ? ` Pick ${able.name} to use it.` : ' No model on this server uses one.'}`;
}

/** Whether a model animates from a start frame to an end frame (text+image to video). */
export function usesEndFrame(model: ModelInfo): boolean {
  return model.modes.includes('ti2v');
}
