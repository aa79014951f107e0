import { describe, expect, it } from 'vitest';
import { DEFAULT_PRESETS, validatePresets } from '../../../src/media/image/presets.js';
import { STUDIO } from './studio-preset.js';

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

describe('delivery presets with formats, extra variants and a watermark', () => {
  const studio = () => structuredClone(STUDIO) as Record<string, any>;

  it("load issue #17's studio example: AVIF high, an attention-cropped WebP square", () => {
    const [preset] = validatePresets([studio()]);
    expect(preset).toEqual({ ...STUDIO, extra: [{ ...STUDIO.extra[0], fit: 'cover', position: 'attention' }] });
    expect(Object.isFrozen(preset!.extra![0])).toBe(true);
  });

  it('take effort for WebP and AVIF, progressive for JPEG, and default a cover position and the watermark placement', () => {
    const custom = studio();
    custom.normal.progressive = false;
    custom.high.effort = 2;
    custom.extra = [{ name: 'banner', width: 1200, height: 400, fit: 'cover', format: 'jpeg', quality: 70 }, { name: 'small', width: 320, height: 320, fit: 'inside', format: 'avif', quality: 50, effort: 0 }];
    custom.watermark = { text: '© Atelier' };
    const [preset] = validatePresets([custom]);
    expect(preset!.normal.progressive).toBe(false);
    expect(preset!.high.effort).toBe(2);
    expect(preset!.extra!.map((e) => [e.name, e.fit, e.position])).toEqual([
      ['banner', 'cover', 'attention'],
      ['small', 'inside', undefined],
    ]);
    expect(preset!.watermark).toEqual({ text: '© Atelier', position: 'south-east', opacity: 0.5, size: 0.2 });
  });

  it.each([
    ['an unknown format', (p: any) => {
      p.normal.format = 'gif';
    }, 'presets.studio.normal.format', "one of 'jpeg', 'webp', 'avif'"],
    ['a cover crop without a height', (p: any) => {
      delete p.extra[0].height;
    }, 'presets.studio.extra.square.height', "fit 'cover' crops"],
    ['an unknown fit', (p: any) => {
      p.extra[0].fit = 'fill';
    }, 'presets.studio.extra.square.fit', "'inside' or 'cover'"],
    ['an unknown crop position', (p: any) => {
      p.extra[0].position = 'middle';
    }, 'presets.studio.extra.square.position', "'attention', 'entropy', 'centre'"],
    ['a position without a crop', (p: any) => {
      p.extra[0].fit = 'inside';
    }, 'presets.studio.extra.square.position', "unless fit is 'cover'"],
    ['an extra variant named like a fixed one', (p: any) => {
      p.extra[0].name = 'high';
    }, 'presets.studio.extra.high.name', 'other than normal'],
    ['two extra variants of one name', (p: any) => {
      p.extra.push({ ...p.extra[0] });
    }, 'presets.studio.extra.square.name', 'other extra variants'],
    ['an unsafe extra name', (p: any) => {
      p.extra[0].name = '../x';
    }, 'presets.studio.extra[0].name', 'lowercase name'],
    ['effort on a JPEG', (p: any) => {
      p.normal.effort = 3;
    }, 'presets.studio.normal.effort', 'only webp 0–6 and avif 0–9'],
    ['AVIF effort 10', (p: any) => {
      p.high.effort = 10;
    }, 'presets.studio.high.effort', 'integer 0–9 for avif'],
    ['WebP effort 7', (p: any) => {
      p.extra[0].effort = 7;
    }, 'presets.studio.extra.square.effort', 'integer 0–6 for webp'],
    ['progressive on a WebP', (p: any) => {
      p.extra[0].progressive = true;
    }, 'presets.studio.extra.square.progressive', 'JPEG only'],
    ['a watermark with both image and text', (p: any) => {
      p.watermark = { image: 'logo.png', text: 'x' };
    }, 'presets.studio.watermark', 'exactly one of image'],
    ['a watermark with neither', (p: any) => {
      p.watermark = { opacity: 0.5 };
    }, 'presets.studio.watermark', 'exactly one of image'],
    ['a watermark opacity above 1', (p: any) => {
      p.watermark = { text: 'x', opacity: 1.5 };
    }, 'presets.studio.watermark.opacity', 'at most 1'],
    ['an unknown watermark position', (p: any) => {
      p.watermark = { text: 'x', position: 'bottom-right' };
    }, 'presets.studio.watermark.position', 'south-east'],
    ['an unknown watermark field', (p: any) => {
      p.watermark = { text: 'x', font: 'Comic' };
    }, 'presets.studio.watermark.font', 'only image, text'],
  ] as const)('refuse %s, naming the field', (_, change, field, expected) => {
    const preset = studio();
    change(preset);
    const error = refusal([preset]);
    expect([error.code, error.field]).toEqual(['config_invalid', field]);
    expect(error.message).toContain(field);
    expect(error.message).toContain(expected);
  });
});
