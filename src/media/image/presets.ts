import { AtelierError, describeValue } from '../../errors/atelier-error.js';

/** One delivery output of a preset: the box it must fit inside and how it is encoded. */
export interface VariantSpec<F extends 'jpeg' | 'webp'> {
  readonly width: number;
  readonly height: number;
  readonly format: F;
  /** Encoder quality, 1–100. */
  readonly quality: number;
}

/**
 * Delivery variants for one tool (seed 004): `normal` is a JPEG for fast loading, `high` a
 * WebP for detailed viewing. Images are fitted inside each box and never enlarged.
 */
export interface DeliveryPreset {
  /** `dall-e`, `sora`, `stable-diffusion` or any configured name; safe in storage keys. */
  readonly name: string;
  readonly normal: VariantSpec<'jpeg'>;
  readonly high: VariantSpec<'webp'>;
}

/** SPEC §4's presets. They are configuration: {@link validatePresets} checks user-supplied ones. */
export const DEFAULT_PRESETS: readonly DeliveryPreset[] = deepFreeze([
  { name: 'dall-e', normal: { width: 1024, height: 1024, format: 'jpeg', quality: 80 }, high: { width: 2048, height: 2048, format: 'webp', quality: 95 } },
  { name: 'sora', normal: { width: 1280, height: 720, format: 'jpeg', quality: 85 }, high: { width: 1920, height: 1080, format: 'webp', quality: 95 } },
  { name: 'stable-diffusion', normal: { width: 768, height: 768, format: 'jpeg', quality: 80 }, high: { width: 1536, height: 1536, format: 'webp', quality: 95 } },
]);

// Larger than any generated image we expect, small enough that a typo (20480) is caught.
const MAX_EDGE = 16_384;
// Preset names end up in storage keys and URLs, so they obey the key segment rules.
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Checks presets read from configuration and returns them typed and frozen. Throws
 * `AtelierError('config_invalid')` whose `field` names the bad preset and field, e.g.
 * `presets.sora.normal.width`. Unknown fields are refused rather than ignored.
 *
 * @example const presets = validatePresets(config.presets ?? DEFAULT_PRESETS)
 */
export function validatePresets(presets: unknown): readonly DeliveryPreset[] {
  if (!Array.isArray(presets) || presets.length === 0) throw invalid('presets', 'a non-empty array of presets', presets);
  const seen = new Set<string>();
  const result = presets.map((preset: unknown, index): DeliveryPreset => {
    const at = `presets[${index}]`;
    const fields = record(preset, at, ['name', 'normal', 'high']);
    if (typeof fields.name !== 'string' || !NAME.test(fields.name)) throw invalid(`${at}.name`, 'a lowercase name of letters, digits, ".", "_" or "-"', fields.name);
    if (seen.has(fields.name)) throw invalid(`presets.${fields.name}.name`, 'a name used by no other preset', fields.name);
    seen.add(fields.name);
    const named = `presets.${fields.name}`;
    return { name: fields.name, normal: variant(fields.normal, `${named}.normal`, 'jpeg'), high: variant(fields.high, `${named}.high`, 'webp') };
  });
  return deepFreeze(result);
}

function variant<F extends 'jpeg' | 'webp'>(value: unknown, at: string, format: F): VariantSpec<F> {
  const fields = record(value, at, ['width', 'height', 'format', 'quality']);
  for (const edge of ['width', 'height'] as const) {
    if (!isIntegerIn(fields[edge], 1, MAX_EDGE)) throw invalid(`${at}.${edge}`, `integer 1–${MAX_EDGE}`, fields[edge]);
  }
  if (fields.format !== format) throw invalid(`${at}.format`, `'${format}'`, fields.format);
  if (!isIntegerIn(fields.quality, 1, 100)) throw invalid(`${at}.quality`, 'integer 1–100', fields.quality);
  return { width: fields.width as number, height: fields.height as number, format, quality: fields.quality as number };
}

function record(value: unknown, at: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(at, 'an object', value);
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw invalid(`${at}.${unknown}`, `only ${allowed.join(', ')}`, unknown);
  return value as Record<string, unknown>;
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function invalid(field: string, expected: string, received: unknown): AtelierError {
  return new AtelierError('config_invalid', `Expected ${expected} for ${field} but received ${describeValue(received)}`, { field });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
