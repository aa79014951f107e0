import { describe, it, expect } from 'vitest';
import { formatA1111Parameters, hasNegativePrompt, parseA1111Parameters } from '../../../src/media/image/a1111-parameters.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';

const spec = (overrides: Partial<JobSpec> = {}): JobSpec =>
  Object.freeze({
    mode: 't2i',
    model: 'preview',
    prompt: 'a lighthouse on a cliff, golden hour',
    negativePrompt: 'blurry, low quality',
    width: 1024,
    height: 1024,
    steps: 30,
    cfgScale: 7.5,
    sampler: 'Euler',
    seed: 1,
    seedFixed: true,
    numImages: 1,
    hiresFix: false,
    priority: 0,
    ...overrides,
  });

describe('formatA1111Parameters', () => {
  it('formats exactly what A1111 writes, with the given seed and extras last', () => {
    expect(formatA1111Parameters(spec(), 123, { Version: 'atelier-preview-renderer' })).toBe(
      'a lighthouse on a cliff, golden hour\n' +
        'Negative prompt: blurry, low quality\n' +
        'Steps: 30, Sampler: Euler, CFG scale: 7.5, Seed: 123, Size: 1024x1024, Model: preview, Version: atelier-preview-renderer',
    );
  });

  it('omits the negative prompt line when there is none', () => {
    const expected = 'a cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 4294967295, Size: 640x384, Model: preview';
    const base = { prompt: 'a cat', steps: 20, sampler: 'DPM++ 2M Karras', cfgScale: 7, width: 640, height: 384 };
    expect(formatA1111Parameters(spec({ ...base, negativePrompt: undefined }), 4294967295)).toBe(expected);
    expect(formatA1111Parameters(spec({ ...base, negativePrompt: '' }), 4294967295)).toBe(expected);
    expect(formatA1111Parameters(spec({ ...base, negativePrompt: '  ' }), 4294967295)).toBe(expected);
  });

  it('quotes values containing commas, colons or newlines as A1111 does', () => {
    const text = formatA1111Parameters(spec({ negativePrompt: undefined }), 5, { Note: 'a, b: "c"', Count: 3 });
    expect(text.split('\n')[1]).toBe(
      'Steps: 30, Sampler: Euler, CFG scale: 7.5, Seed: 5, Size: 1024x1024, Model: preview, Note: "a, b: \\"c\\"", Count: 3',
    );
  });
});

describe('formatA1111Parameters: LoRAs and backend settings', () => {
  it("writes the applied LoRAs as A1111 does, <lora:name:weight> in the prompt (the model's first), then VAE and Clip skip", () => {
    const text = formatA1111Parameters(
      spec({
        negativePrompt: undefined,
        loras: [{ name: 'film-grain', weight: 0.5 }, { name: 'off', weight: 0 }],
        backendSettings: { checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clipSkip: 2, loras: [{ name: 'style', weight: 0.8 }] },
      }),
      7,
    );
    expect(text).toBe(
      'a lighthouse on a cliff, golden hour <lora:style:0.8> <lora:film-grain:0.5>\n' +
        'Steps: 30, Sampler: Euler, CFG scale: 7.5, Seed: 7, Size: 1024x1024, Model: preview, VAE: kl-f8.safetensors, Clip skip: 2',
    );
    expect(parseA1111Parameters(text)).toMatchObject({ prompt: 'a lighthouse on a cliff, golden hour <lora:style:0.8> <lora:film-grain:0.5>', settings: { VAE: 'kl-f8.safetensors', 'Clip skip': '2' } });
  });

  it('leaves Clip skip out at 1, as A1111 does', () => {
    expect(formatA1111Parameters(spec({ backendSettings: { clipSkip: 1 } }), 1)).not.toContain('Clip skip');
  });
});

describe('parseA1111Parameters', () => {
  it('round-trips formatA1111Parameters, including quoted values and multi-line prompts', () => {
    const s = spec({ prompt: 'line one,\nline two', negativePrompt: 'ugly,\nbad hands' });
    const parsed = parseA1111Parameters(formatA1111Parameters(s, 77, { 'Model label': 'Preview (built-in, no weights)', Note: 'x:y' }));
    expect(parsed).toEqual({
      prompt: 'line one,\nline two',
      negativePrompt: 'ugly,\nbad hands',
      settings: {
        Steps: '30',
        Sampler: 'Euler',
        'CFG scale': '7.5',
        Seed: '77',
        Size: '1024x1024',
        Model: 'preview',
        'Model label': 'Preview (built-in, no weights)',
        Note: 'x:y',
      },
    });
  });

  it('leaves negativePrompt out when the text has none', () => {
    const parsed = parseA1111Parameters(formatA1111Parameters(spec({ negativePrompt: undefined }), 9));
    expect(parsed).not.toHaveProperty('negativePrompt');
    expect(parsed.prompt).toBe('a lighthouse on a cliff, golden hour');
  });

  it('parses a real A1111 infotext and treats a last line with under three settings as prompt', () => {
    const real =
      'masterpiece, (cat:1.2)\nNegative prompt: lowres\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 3, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "a: 1, b: 2", Version: v1.10.1';
    const parsed = parseA1111Parameters(real);
    expect(parsed.prompt).toBe('masterpiece, (cat:1.2)');
    expect(parsed.negativePrompt).toBe('lowres');
    expect(parsed.settings['Lora hashes']).toBe('a: 1, b: 2');
    expect(parsed.settings['Version']).toBe('v1.10.1');
    expect(parsed.settings['Schedule type']).toBe('Automatic');
    expect(parseA1111Parameters('just a prompt\nwith Steps: 3')).toEqual({ prompt: 'just a prompt\nwith Steps: 3', settings: {} });
  });
});

describe('hasNegativePrompt', () => {
  it('is true only for a non-blank negative prompt', () => {
    expect([undefined, '', ' \n', 'blurry'].map((negativePrompt) => hasNegativePrompt({ negativePrompt }))).toEqual([false, false, false, true]);
  });
});
