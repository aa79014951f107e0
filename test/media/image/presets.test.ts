import { describe, expect, it } from 'vitest';
import { DEFAULT_PRESETS, validatePresets } from '../../../src/media/image/presets.js';

const clone = () => structuredClone(DEFAULT_PRESETS) as unknown as Record<string, unknown>[];

function refusal(presets: unknown): { code: string; field: string; message: string } {
  try {
    validatePresets(presets);
  } catch (error) {
    return error as { code: string; field: string; message: string };
  }
  throw new Error('expected validatePresets to throw');
}

describe('delivery presets', () => {
  it('default to SPEC §4', () => {
    expect(DEFAULT_PRESETS).toEqual([
      { name: 'dall-e', normal: { width: 1024, height: 1024, format: 'jpeg', quality: 80 }, high: { width: 2048, height: 2048, format: 'webp', quality: 95 } },
      { name: 'sora', normal: { width: 1280, height: 720, format: 'jpeg', quality: 85 }, high: { width: 1920, height: 1080, format: 'webp', quality: 95 } },
      { name: 'stable-diffusion', normal: { width: 768, height: 768, format: 'jpeg', quality: 80 }, high: { width: 1536, height: 1536, format: 'webp', quality: 95 } },
    ]);
    expect(Object.isFrozen(DEFAULT_PRESETS[0]!.normal)).toBe(true);
  });

  it('accepts the defaults and a custom preset, returning frozen copies', () => {
    const custom = [...clone(), { name: 'flux', normal: { width: 512, height: 512, format: 'jpeg', quality: 70 }, high: { width: 1024, height: 1024, format: 'webp', quality: 90 } }];
    const presets = validatePresets(custom);
    expect(presets.map((p) => p.name)).toEqual(['dall-e', 'sora', 'stable-diffusion', 'flux']);
    expect(Object.isFrozen(presets[3]!.high)).toBe(true);
  });

  it.each([
    ['a zero width', 1, 'normal.width', 0, 'presets.sora.normal.width'],
    ['a fractional height', 0, 'high.height', 10.5, 'presets.dall-e.high.height'],
    ['a PNG normal variant', 2, 'normal.format', 'png', 'presets.stable-diffusion.normal.format'],
    ['quality 101', 1, 'high.quality', 101, 'presets.sora.high.quality'],
    ['an unknown field', 0, 'normal.compressionLevel', 6, 'presets.dall-e.normal.compressionLevel'],
    ['a missing variant', 1, 'high', undefined, 'presets.sora.high'],
    ['a duplicate name', 2, 'name', 'sora', 'presets.sora.name'],
    ['an unsafe name', 0, 'name', '../evil', 'presets[0].name'],
  ] as const)('refuse %s with config_invalid naming the field', (_, index, path, value, field) => {
    const presets = clone();
    const keys = path.split('.');
    const last = keys.pop()!;
    const target = keys.reduce<Record<string, unknown>>((object, key) => object[key] as Record<string, unknown>, presets[index]!);
    if (value === undefined) delete target[last];
    else target[last] = value;
    const error = refusal(presets);
    expect(error.code).toBe('config_invalid');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('refuse something that is not a list of presets', () => {
    expect(refusal({ 'dall-e': {} }).field).toBe('presets');
    expect(refusal([]).field).toBe('presets');
    expect(refusal([null]).field).toBe('presets[0]');
  });
});
