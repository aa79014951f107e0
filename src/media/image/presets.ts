import { AtelierError, describeValue } from '../../errors/atelier-error.js';

/** The encoders a delivery variant may use. */
export type VariantFormat = 'jpeg' | 'webp' | 'avif';
export const VARIANT_FORMATS: readonly VariantFormat[] = ['jpeg', 'webp', 'avif'];

/** One delivery output of a preset: the box it must fit inside and how it is encoded. */
export interface VariantSpec<F extends VariantFormat = VariantFormat> {
  readonly width: number;
  readonly height: number;
  readonly format: F;
  /** Encoder quality, 1–100. */
  readonly quality: number;
  /** CPU spent compressing: WebP 0–6 (sharp's default 4), AVIF 0–9 (default 4). Not for JPEG. */
  readonly effort?: number;
  /** JPEG only: progressive scans (default true), so a slow connection shows the whole picture early. */
  readonly progressive?: boolean;
}

/** sharp's smart-crop strategies (`attention`: skin, saturation, edges; `entropy`: detail) or the middle. */
export type CoverPosition = 'attention' | 'entropy' | 'centre';

/** A named variant beyond `normal` and `high`, e.g. a 256² square for a grid. */
export interface ExtraVariantSpec extends VariantSpec {
  /** Safe in storage keys; neither `normal`, `high` nor `thumb`. */
  readonly name: string;
  /** `inside`: fit inside the box, never enlarged; `cover`: fill the box exactly and crop the overflow. */
  readonly fit: 'inside' | 'cover';
  /** Cover only (default `attention`): which part of the picture the crop keeps. */
  readonly position?: CoverPosition;
}

/** Where a watermark sits, as compass points (sharp's gravities without the hyphen). */
export type WatermarkPosition = 'north-west' | 'north' | 'north-east' | 'west' | 'centre' | 'east' | 'south-west' | 'south' | 'south-east';
export const WATERMARK_POSITIONS: readonly WatermarkPosition[] = ['north-west', 'north', 'north-east', 'west', 'centre', 'east', 'south-west', 'south', 'south-east'];

/**
 * A mark drawn on every delivered variant (never on the original or the thumbnail): an image
 * file (absolute once configuration is loaded: the file names it relative to itself) or text.
 */
export type WatermarkSpec = ({ readonly image: string; readonly text?: undefined } | { readonly text: string; readonly image?: undefined }) & {
  readonly position: WatermarkPosition;
  /** 0–1: how much of the mark shows over the picture. */
  readonly opacity: number;
  /** The mark's width as a fraction of the variant's width, 0.01–1. */
  readonly size: number;
};

/**
 * Delivery variants for one tool (seed 004): `normal` for fast loading, `high` for detailed
 * viewing, and any `extra` named variants. Images are fitted inside each box and never
 * enlarged, unless an extra variant asks to cover its box.
 */
export interface DeliveryPreset {
  /** `dall-e`, `sora`, `stable-diffusion` or any configured name; safe in storage keys. */
  readonly name: string;
  readonly normal: VariantSpec;
  readonly high: VariantSpec;
  readonly extra?: readonly ExtraVariantSpec[];
  readonly watermark?: WatermarkSpec;
}

/** SPEC §4's presets. They are configuration: {@link validatePresets} checks user-supplied ones. */
export const DEFAULT_PRESETS: readonly DeliveryPreset[] = deepFreeze([
  { name: 'dall-e', normal: { width: 1024, height: 1024, format: 'jpeg', quality: 80 }, high: { width: 2048, height: 2048, format: 'webp', quality: 95 } },
  { name: 'sora', normal: { width: 1280, height: 720, format: 'jpeg', quality: 85 }, high: { width: 1920, height: 1080, format: 'webp', quality: 95 } },
  { name: 'stable-diffusion', normal: { width: 768, height: 768, format: 'jpeg', quality: 80 }, high: { width: 1536, height: 1536, format: 'webp', quality: 95 } },
]);

// Larger than any generated image we expect, small enough that a typo (20480) is caught.
const MAX_EDGE = 16_384;
// Preset and variant names end up in storage keys and URLs, so they obey the key segment rules.
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const NAME_RULE = 'a lowercase name of letters, digits, ".", "_" or "-"';
// A variant's key is `{index}.{preset}.{name}.{ext}`: these names are taken by the fixed outputs.
const RESERVED_VARIANT_NAMES = new Set(['normal', 'high', 'thumb']);
const EFFORT: Record<VariantFormat, readonly [number, number] | undefined> = { jpeg: undefined, webp: [0, 6], avif: [0, 9] };
const COVER_POSITIONS: readonly CoverPosition[] = ['attention', 'entropy', 'centre'];

/**
 * Checks presets read from configuration and returns them typed and frozen. Throws
 * `AtelierError('config_invalid')` whose `field` names the bad preset and field, e.g.
 * `presets.sora.normal.width` or `presets.studio.extra.square.position`. Unknown fields are
 * refused rather than ignored. A watermark image's existence is checked where files are read
 * (`resolvePresets`), not here.
 *
 * @example const presets = validatePresets(config.presets ?? DEFAULT_PRESETS)
 */
export function validatePresets(presets: unknown): readonly DeliveryPreset[] {
  if (!Array.isArray(presets) || presets.length === 0) throw invalid('presets', 'a non-empty array of presets', presets);
  const seen = new Set<string>();
  const result = presets.map((preset: unknown, index): DeliveryPreset => {
    const at = `presets[${index}]`;
    const fields = record(preset, at, ['name', 'normal', 'high', 'extra', 'watermark']);
    if (typeof fields.name !== 'string' || !NAME.test(fields.name)) throw invalid(`${at}.name`, NAME_RULE, fields.name);
    if (seen.has(fields.name)) throw invalid(`presets.${fields.name}.name`, 'a name used by no other preset', fields.name);
    seen.add(fields.name);
    const named = `presets.${fields.name}`;
    return {
      name: fields.name,
      normal: variant(fields.normal, `${named}.normal`),
      high: variant(fields.high, `${named}.high`),
      ...(fields.extra === undefined ? {} : { extra: extras(fields.extra, `${named}.extra`) }),
      ...(fields.watermark === undefined ? {} : { watermark: watermark(fields.watermark, `${named}.watermark`) }),
    };
  });
  return deepFreeze(result);
}

const VARIANT_FIELDS = ['width', 'height', 'format', 'quality', 'effort', 'progressive'];

function variant(value: unknown, at: string, fields = record(value, at, VARIANT_FIELDS)): VariantSpec {
  for (const edge of ['width', 'height'] as const) {
    if (!isIntegerIn(fields[edge], 1, MAX_EDGE)) throw invalid(`${at}.${edge}`, `integer 1–${MAX_EDGE}`, fields[edge]);
  }
  const format = fields.format as VariantFormat;
  if (!VARIANT_FORMATS.includes(format)) throw invalid(`${at}.format`, `one of ${VARIANT_FORMATS.map((f) => `'${f}'`).join(', ')}`, fields.format);
  if (!isIntegerIn(fields.quality, 1, 100)) throw invalid(`${at}.quality`, 'integer 1–100', fields.quality);
  const effort = EFFORT[format];
  if (fields.effort !== undefined) {
    if (effort === undefined) throw invalid(`${at}.effort`, `no effort for ${format} (only webp 0–6 and avif 0–9)`, fields.effort);
    if (!isIntegerIn(fields.effort, effort[0], effort[1])) throw invalid(`${at}.effort`, `integer ${effort[0]}–${effort[1]} for ${format}`, fields.effort);
  }
  if (fields.progressive !== undefined && (format !== 'jpeg' || typeof fields.progressive !== 'boolean')) {
    throw invalid(`${at}.progressive`, format === 'jpeg' ? 'true or false' : 'no progressive flag (JPEG only)', fields.progressive);
  }
  return {
    width: fields.width as number,
    height: fields.height as number,
    format,
    quality: fields.quality as number,
    ...(fields.effort === undefined ? {} : { effort: fields.effort as number }),
    ...(fields.progressive === undefined ? {} : { progressive: fields.progressive as boolean }),
  };
}

function extras(value: unknown, at: string): ExtraVariantSpec[] {
  if (!Array.isArray(value)) throw invalid(at, 'an array of named variants', value);
  const names = new Set<string>();
  return value.map((entry: unknown, index) => {
    const fields = record(entry, `${at}[${index}]`, ['name', 'fit', 'position', ...VARIANT_FIELDS]);
    const { name } = fields;
    if (typeof name !== 'string' || !NAME.test(name)) throw invalid(`${at}[${index}].name`, NAME_RULE, name);
    if (RESERVED_VARIANT_NAMES.has(name) || names.has(name)) throw invalid(`${at}.${name}.name`, 'a name other than normal, high, thumb and the other extra variants', name);
    names.add(name);
    const named = `${at}.${name}`;
    const fit = fields.fit ?? 'inside';
    if (fit !== 'inside' && fit !== 'cover') throw invalid(`${named}.fit`, "'inside' or 'cover'", fit);
    if (fit === 'cover') {
      // A crop needs both edges: without one, the shape of the square/banner is unknown.
      for (const edge of ['width', 'height'] as const) {
        if (fields[edge] === undefined) throw invalid(`${named}.${edge}`, `integer 1–${MAX_EDGE} (fit 'cover' crops to an exact width × height)`, undefined);
      }
    }
    if (fields.position !== undefined) {
      if (fit !== 'cover') throw invalid(`${named}.position`, "no position unless fit is 'cover'", fields.position);
      if (!COVER_POSITIONS.includes(fields.position as CoverPosition)) throw invalid(`${named}.position`, `one of ${COVER_POSITIONS.map((p) => `'${p}'`).join(', ')}`, fields.position);
    }
    return {
      name,
      fit,
      ...(fit === 'cover' ? { position: (fields.position as CoverPosition | undefined) ?? 'attention' } : {}),
      ...variant(entry, named, fields),
    };
  });
}

function watermark(value: unknown, at: string): WatermarkSpec {
  const fields = record(value, at, ['image', 'text', 'position', 'opacity', 'size']);
  const hasImage = fields.image !== undefined;
  const hasText = fields.text !== undefined;
  if (hasImage === hasText) throw invalid(at, 'exactly one of image (a file path) or text', value);
  if (hasImage && (typeof fields.image !== 'string' || fields.image.length === 0)) throw invalid(`${at}.image`, 'a file path', fields.image);
  if (hasText && (typeof fields.text !== 'string' || fields.text.trim().length === 0 || fields.text.length > 200)) throw invalid(`${at}.text`, 'text of 1–200 characters', fields.text);
  const position = fields.position ?? 'south-east';
  if (!WATERMARK_POSITIONS.includes(position as WatermarkPosition)) throw invalid(`${at}.position`, `one of ${WATERMARK_POSITIONS.join(', ')}`, position);
  const opacity = fields.opacity ?? 0.5;
  if (typeof opacity !== 'number' || !(opacity > 0 && opacity <= 1)) throw invalid(`${at}.opacity`, 'a number above 0, at most 1', opacity);
  const size = fields.size ?? 0.2;
  if (typeof size !== 'number' || !(size >= 0.01 && size <= 1)) throw invalid(`${at}.size`, 'a fraction of the variant width, 0.01–1', size);
  const common = { position: position as WatermarkPosition, opacity, size };
  return hasImage ? { image: fields.image as string, ...common } : { text: fields.text as string, ...common };
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
