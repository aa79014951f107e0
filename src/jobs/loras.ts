import { AtelierError } from '../errors/atelier-error.js';

/** One LoRA applied to a job: the name its backend knows it by and its strength. */
export interface Lora {
  readonly name: string;
  /** Strength on the model and the text encoder; 0 leaves it out, negative inverts it. */
  readonly weight: number;
}

/** Request-wide ceilings: a request names at most this many LoRAs, each weighted −4…4. */
export const MAX_LORAS = 8;
export const LORA_WEIGHT_MIN = -4;
export const LORA_WEIGHT_MAX = 4;

/**
 * Characters a LoRA name may not hold: A1111's `<lora:name:weight>` tag splits on `:` and
 * ends at `>`, and a line break would end the PNG parameters' prompt line.
 */
export const LORA_NAME_PATTERN = '^[^<>:\\u0000-\\u001f]+$';

/** A LoRA as a request names it; the weight defaults to 1 (A1111's `<lora:name>`). */
export interface LoraRequest {
  readonly name: string;
  readonly weight?: number;
}

/** What a model declares about LoRAs (ModelConfig's subset this module reads). */
export interface LoraModel {
  readonly name: string;
  /** Names a request may use; absent or empty: none. */
  readonly loras?: readonly string[];
}

/**
 * Checks a request's LoRAs against the model's declared names and returns the spec field:
 * undefined for none, else a frozen list in request order. Errors are `invalid_parameter`
 * (422) naming the entry and, for a name, the ones the model allows.
 *
 * @example resolveLoras([{ name: 'detail', weight: 0.6 }], { name: 'sdxl', loras: ['detail'] }) // [{ name: 'detail', weight: 0.6 }]
 */
export function resolveLoras(requested: readonly LoraRequest[] | undefined, model: LoraModel): readonly Lora[] | undefined {
  if (requested === undefined || requested.length === 0) return undefined;
  const allowed = model.loras ?? [];
  if (allowed.length === 0) {
    throw new AtelierError('invalid_parameter', `Model '${model.name}' takes no LoRAs but received ${requested.length}`, { field: 'loras', details: { available: [] } });
  }
  if (requested.length > MAX_LORAS) {
    throw new AtelierError('invalid_parameter', `Expected at most ${MAX_LORAS} entries for loras but received ${requested.length}`, { field: 'loras' });
  }
  const seen = new Set<string>();
  const loras = requested.map(({ name, weight = 1 }, i): Lora => {
    if (!allowed.includes(name)) {
      throw new AtelierError('invalid_parameter', `Expected one of ${allowed.join(', ')} for loras[${i}].name of model '${model.name}' but received '${name}'`, {
        field: `loras[${i}].name`,
        details: { available: [...allowed] },
      });
    }
    if (seen.has(name)) throw new AtelierError('invalid_parameter', `Expected each LoRA once but loras[${i}].name repeats '${name}'`, { field: `loras[${i}].name` });
    seen.add(name);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < LORA_WEIGHT_MIN || weight > LORA_WEIGHT_MAX) {
      throw new AtelierError('invalid_parameter', `Expected number ${LORA_WEIGHT_MIN}–${LORA_WEIGHT_MAX} for loras[${i}].weight but received ${String(weight)}`, { field: `loras[${i}].weight` });
    }
    return Object.freeze({ name, weight });
  });
  return Object.freeze(loras);
}

/** The two LoRA lists of a spec (JobSpec's subset): the request's and the model's own. */
export interface LoraSpec {
  readonly loras?: readonly Lora[] | undefined;
  readonly backendSettings?: { readonly loras?: readonly Lora[] | undefined } | undefined;
}

/**
 * The LoRAs a backend applies, in order: the model's own (`backendSettings.loras`), then
 * the request's. A request entry naming one of the model's replaces its weight in place, so
 * each LoRA loads once, and weight 0 switches it off (a model's default one too). Every
 * backend, the cache key and the provenance read this one list.
 *
 * @example appliedLoras({ loras: [{ name: 'a', weight: 0 }, { name: 'b', weight: 1 }], backendSettings: { loras: [{ name: 'a', weight: 0.8 }] } }) // [{ name: 'b', weight: 1 }]
 */
export function appliedLoras(spec: LoraSpec): readonly Lora[] {
  const requested = spec.loras ?? [];
  const byName = new Map<string, Lora>();
  for (const lora of spec.backendSettings?.loras ?? []) byName.set(lora.name, lora);
  for (const lora of requested) byName.set(lora.name, lora);
  return [...byName.values()].filter((lora) => lora.weight !== 0);
}

/**
 * A1111's extra-network tag for one LoRA, which it reads from the prompt and keeps in the
 * prompt of the PNG info it writes.
 *
 * @example loraTag({ name: 'detail', weight: 0.6 }) // '<lora:detail:0.6>'
 */
export function loraTag(lora: Lora): string {
  return `<lora:${lora.name}:${lora.weight}>`;
}

/**
 * The prompt with A1111 `<lora:name:weight>` tags appended, space-separated; the prompt
 * unchanged when there are none.
 *
 * @example promptWithLoraTags('a fox', [{ name: 'detail', weight: 0.6 }]) // 'a fox <lora:detail:0.6>'
 */
export function promptWithLoraTags(prompt: string, loras: readonly Lora[]): string {
  if (loras.length === 0) return prompt;
  return [prompt, ...loras.map(loraTag)].filter((part) => part !== '').join(' ');
}
