import type { FormState } from './form-state';
import type { ModelInfo } from './models';
import type { RequestBody } from './request-body';
import { checkSchema, requestSchema, type JsonSchema, type OpenApiDocument } from './schema-check';

/** A form control a problem belongs to (FormState's name for it). */
export type FieldName = 'prompt' | 'negativePrompt' | 'steps' | 'cfgScale' | 'numImages' | 'sampler' | 'seed' | 'denoise' | 'durationSeconds' | 'fps' | 'controlWeight' | 'model';

/** One problem of the form, in words a person uses; `field` is the control to mark, when there is one. */
export interface FieldProblem {
  readonly field?: FieldName;
  /** The body field, as the API names it (`steps`, `controlnet.0.weight`). */
  readonly key: string;
  readonly message: string;
}

/** Body fields with a control of their own: the control's label and name. */
const FIELDS: Record<string, { readonly field: FieldName; readonly label: string }> = {
  prompt: { field: 'prompt', label: 'Prompt' },
  negative_prompt: { field: 'negativePrompt', label: 'Negative prompt' },
  model: { field: 'model', label: 'Model' },
  steps: { field: 'steps', label: 'Steps' },
  cfg_scale: { field: 'cfgScale', label: 'CFG scale' },
  num_images: { field: 'numImages', label: 'Number of images' },
  sampler: { field: 'sampler', label: 'Sampler' },
  seed: { field: 'seed', label: 'Seed' },
  denoise_strength: { field: 'denoise', label: 'Denoise' },
  duration_seconds: { field: 'durationSeconds', label: 'Duration' },
  fps: { field: 'fps', label: 'FPS' },
  'controlnet.0.weight': { field: 'controlWeight', label: 'Control weight' },
};

/** Images the form asks for with its own controls; their absence is a hint, not an error. */
const FORM_IMAGES = new Set(['reference_image', 'start_image']);

const format = (n: number) => String(Math.round(n * 1000) / 1000);

function propertyAt(schema: JsonSchema, key: string, resolve: (ref: string) => JsonSchema | undefined): JsonSchema | undefined {
  let at: JsonSchema | undefined = schema;
  for (const part of key.split('.')) {
    if (at?.$ref) at = resolve(at.$ref);
    if (!at) return undefined;
    at = /^\d+$/.test(part) ? at.items : at.properties?.[part];
  }
  return at?.$ref ? resolve(at.$ref) : at;
}

function valueAt(body: RequestBody, key: string): unknown {
  let at: unknown = body;
  for (const part of key.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  return at;
}

/** The bounds of a number field: the API's, narrowed by the model's own limits. */
function bounds(key: string, property: JsonSchema, model: ModelInfo | undefined): { min?: number; max?: number; above?: number; model?: string } {
  const max = key === 'steps' ? model?.limits.maxSteps : key === 'num_images' ? model?.limits.maxImages : undefined;
  return {
    ...(property.minimum !== undefined ? { min: property.minimum } : {}),
    ...(property.exclusiveMinimum !== undefined ? { above: property.exclusiveMinimum } : {}),
    ...(max !== undefined || property.maximum !== undefined ? { max: Math.min(max ?? Infinity, property.maximum ?? Infinity) } : {}),
    ...(max !== undefined && model ? { model: model.name } : {}),
  };
}

/** "Steps must be between 1 and 150 for preview", or undefined when the value is fine. */
function numberProblem(label: string, value: unknown, integer: boolean, range: ReturnType<typeof bounds>): string | undefined {
  const whole = integer ? 'a whole number' : 'a number';
  const span =
    range.above !== undefined && range.max !== undefined
      ? `more than ${format(range.above)} and at most ${format(range.max)}`
      : range.min !== undefined && range.max !== undefined
        ? `between ${format(range.min)} and ${format(range.max)}`
        : range.max !== undefined
          ? `at most ${format(range.max)}`
          : range.min !== undefined
            ? `at least ${format(range.min)}`
            : undefined;
  const scope = range.model ? ` for ${range.model}` : '';
  if (typeof value !== 'number' || Number.isNaN(value)) return `${label} is empty: enter ${whole}${span ? ` ${span}` : ''}${scope}`;
  if (!Number.isFinite(value)) return `${label} must be ${whole}${span ? ` ${span}` : ''}`;
  if (integer && !Number.isInteger(value)) return `${label} must be a whole number${span ? ` ${span}` : ''}`;
  const low = (range.min !== undefined && value < range.min) || (range.above !== undefined && value <= range.above);
  const high = range.max !== undefined && value > range.max;
  return low || high ? `${label} must be ${span}${scope}` : undefined;
}

/**
 * Everything wrong with the form's request, field by field, in words: number fields against
 * the API's schema and the model's limits (an empty field explained), the sampler against the
 * model, then whatever else the schema says (fields typed into the JSON editor).
 */
export function formProblems(doc: OpenApiDocument | undefined, path: string, body: RequestBody, form: FormState, model: ModelInfo | undefined): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const found = doc ? requestSchema(doc, path) : undefined;
  const handled = new Set<string>();
  if (found) {
    for (const [key, { field, label }] of Object.entries(FIELDS)) {
      const property = propertyAt(found.schema, key, found.resolve);
      const value = valueAt(body, key);
      if (!property || value === undefined) continue;
      const type = typeof property.type === 'string' ? property.type : undefined;
      if (type !== 'integer' && type !== 'number') continue;
      handled.add(key);
      const message = numberProblem(label, value, type === 'integer', bounds(key, property, model));
      if (message) problems.push({ field, key, message });
    }
  }
  if (model && !model.samplers.includes(form.sampler)) {
    handled.add('sampler');
    problems.push({ field: 'sampler', key: 'sampler', message: `Sampler ${form.sampler} is not offered by ${model.name}: pick one of ${model.samplers.join(', ')}` });
  }
  if (!found) {
    // Without the schema, the model's limits still say what would be refused.
    if (model && Number.isFinite(form.steps) && form.steps > model.limits.maxSteps) problems.push({ field: 'steps', key: 'steps', message: `Steps must be between 1 and ${model.limits.maxSteps} for ${model.name}` });
    if (model && form.tab !== 'video' && form.numImages > model.limits.maxImages) problems.push({ field: 'numImages', key: 'num_images', message: `Number of images must be between 1 and ${model.limits.maxImages} for ${model.name}` });
    return problems;
  }
  for (const problem of checkSchema(found.schema, body, found.resolve)) {
    if (handled.has(problem.path) || (FORM_IMAGES.has(problem.path) && problem.message === 'is required')) continue;
    const known = FIELDS[problem.path];
    problems.push({ ...(known ? { field: known.field } : {}), key: problem.path, message: known ? `${known.label}: ${problem.message}` : `${problem.path || 'The request'}: ${problem.message}` });
  }
  return problems;
}

/** The message for one control, if it has a problem. */
export function problemFor(problems: readonly FieldProblem[], field: FieldName): string | undefined {
  return problems.find((problem) => problem.field === field)?.message;
}
