import { describe, expect, it } from 'vitest';
import type { BackendCapabilities } from '../../src/backends/backend.js';
import type { ModelConfig } from '../../src/backends/model-registry.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { normalizeRequest } from '../../src/jobs/normalize-request.js';
import type { GenerationRequest } from '../../src/jobs/generation-request.js';
import type { InputImage } from '../../src/jobs/job-spec.js';

const model: ModelConfig = {
  name: 'sdxl',
  backend: 'b',
  label: 'SDXL',
  modes: ['t2i'],
  baseResolution: 1024,
  defaultSteps: 30,
  defaultCfgScale: 7.5,
  defaultSampler: 'Euler',
};
const capabilities: BackendCapabilities = {
  modes: ['t2i', 'i2i', 't2v', 'i2v', 'ti2v'],
  samplers: ['Euler', 'DPM++ 2M'],
  maxWidth: 2048,
  maxHeight: 2048,
  maxSteps: 150,
  maxBatch: 8,
  cancel: true,
  preview: false,
  hiresFix: true,
};
const normalize = (req: GenerationRequest, seed = 1234) => normalizeRequest('t2i', req, { model, capabilities, randomSeed: () => seed }).spec;

function expectError(fn: () => unknown, code: string, field: string): AtelierError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AtelierError);
    expect((error as AtelierError).code).toBe(code);
    expect((error as AtelierError).field).toBe(field);
    return error as AtelierError;
  }
  throw new Error('expected an error');
}

describe('normalizeRequest (text-to-image)', () => {
  it("applies the model's defaults (seed 003: steps 30, CFG 7.5, Euler, one image)", () => {
    const spec = normalize({ prompt: '  a fox  ' });
    expect(spec).toMatchObject({ mode: 't2i', model: 'sdxl', prompt: 'a fox', width: 1024, height: 1024, steps: 30, cfgScale: 7.5, sampler: 'Euler', numImages: 1, hiresFix: false, priority: 0 });
    expect(spec.negativePrompt).toBeUndefined();
  });

  it('returns a frozen spec', () => {
    expect(Object.isFrozen(normalize({ prompt: 'x' }))).toBe(true);
  });

  it('draws a seed for -1 or no seed and records that it was not fixed', () => {
    expect(normalize({ prompt: 'x', seed: -1 }, 99)).toMatchObject({ seed: 99, seedFixed: false });
    expect(normalize({ prompt: 'x' }, 98)).toMatchObject({ seed: 98, seedFixed: false });
    expect(normalize({ prompt: 'x', seed: 0 }, 98)).toMatchObject({ seed: 0, seedFixed: true });
  });

  it('accepts guidance_scale as an alias of cfg_scale and refuses two different values', () => {
    expect(normalize({ prompt: 'x', guidance_scale: 4 }).cfgScale).toBe(4);
    expect(normalize({ prompt: 'x', cfg_scale: 4, guidance_scale: 4 }).cfgScale).toBe(4);
    expectError(() => normalize({ prompt: 'x', cfg_scale: 4, guidance_scale: 5 }), 'invalid_parameter', 'guidance_scale');
  });

  it('maps an aspect ratio to a model-sized bucket', () => {
    expect(normalize({ prompt: 'x', aspect_ratio: '16:9' })).toMatchObject({ width: 1344, height: 768 });
    expect(normalize({ prompt: 'x', aspect_ratio: '9:16' })).toMatchObject({ width: 768, height: 1344 });
  });

  it('refuses an aspect ratio together with a size', () => {
    expectError(() => normalize({ prompt: 'x', aspect_ratio: '1:1', width: 512 }), 'invalid_parameter', 'aspect_ratio');
  });

  it('uses one side for both when only one is given', () => {
    expect(normalize({ prompt: 'x', width: 640 })).toMatchObject({ width: 640, height: 640 });
  });

  it('refuses sizes that are not multiples of 8', () => {
    const error = expectError(() => normalize({ prompt: 'x', width: 500, height: 512 }), 'invalid_parameter', 'width');
    expect(error.message).toBe('Expected a multiple of 8 for width but received 500');
  });

  it("refuses what the model's backend cannot do, naming the field", () => {
    expectError(() => normalize({ prompt: 'x', width: 4096, height: 512 }), 'capability_unsupported', 'width');
    expectError(() => normalize({ prompt: 'x', num_images: 9 }), 'capability_unsupported', 'num_images');
    expectError(() => normalize({ prompt: 'x', sampler: 'LMS' }), 'capability_unsupported', 'sampler');
  });

  it('refuses an empty prompt', () => {
    expectError(() => normalize({ prompt: '   ' }), 'invalid_parameter', 'prompt');
  });

  it('keeps a negative prompt only when it has content', () => {
    expect(normalize({ prompt: 'x', negative_prompt: '  ' }).negativePrompt).toBeUndefined();
    expect(normalize({ prompt: 'x', negative_prompt: ' blurry ' }).negativePrompt).toBe('blurry');
  });

  it('refuses a model without text-to-image', () => {
    expect(() => normalizeRequest('t2i', { prompt: 'x' }, { model: { ...model, modes: ['i2i'] }, capabilities, randomSeed: () => 1 })).toThrow(/does not support text-to-image/);
  });
});

const image = (width: number, height: number, key = 'k'): InputImage => ({ key, format: 'png', width, height, sha256: 'x', source: { uploadId: 'u' } });
const allModes: ModelConfig = { ...model, modes: ['t2i', 'i2i', 't2v', 'i2v', 'ti2v'], defaultFps: 16, defaultFrames: 48, maxFrames: 120 };
const run = (mode: 'i2i' | 't2v' | 'i2v' | 'ti2v', req: GenerationRequest, images = {}) =>
  normalizeRequest(mode, req, { model: allModes, capabilities, randomSeed: () => 7, images });

describe('normalizeRequest (image-to-image)', () => {
  it('requires a reference and sizes the output like it when no size is given', () => {
    expectError(() => run('i2i', { prompt: 'x' }), 'invalid_parameter', 'reference_image');
    const { spec } = run('i2i', { prompt: 'x' }, { reference: image(1600, 900) });
    expect(spec).toMatchObject({ mode: 'i2i', width: 1344, height: 768, reference: { key: 'k' } });
  });

  it('clamps exact copy with an empty prompt (SPEC §3)', () => {
    const { spec } = run('i2i', { prompt: '', exact_copy_mode: true, denoise_strength: 0.4, cfg_scale: 9, steps: 40, negative_prompt: 'blurry' }, { reference: image(512, 512) });
    expect(spec).toMatchObject({ denoiseStrength: 0.05, cfgScale: 1, steps: 6, exactCopy: true });
    expect(spec.negativePrompt).toBeUndefined();
  });

  it('passes modify-mode parameters through unclamped', () => {
    const { spec } = run('i2i', { prompt: 'make it night', denoise_strength: 0.9, cfg_scale: 12, steps: 80 }, { reference: image(512, 512) });
    expect(spec).toMatchObject({ denoiseStrength: 0.9, cfgScale: 12, steps: 80, exactCopy: false });
  });

  it('converts the deprecated reference_strength with a warning', () => {
    const { spec, warnings } = run('i2i', { prompt: 'x', reference_strength: 0.8 }, { reference: image(512, 512) });
    expect(spec.denoiseStrength).toBeCloseTo(0.2);
    expect(warnings.join(' ')).toMatch(/reference_strength is deprecated/);
  });

  it('refuses img2img parameters on other modes', () => {
    expectError(() => run('t2v', { prompt: 'x', denoise_strength: 0.5 }), 'invalid_parameter', 'denoise_strength');
  });
});

describe('normalizeRequest (video)', () => {
  it('refuses any image for text-to-video', () => {
    expectError(() => run('t2v', { prompt: 'x' }, { start: image(512, 512) }), 'invalid_parameter', 'start_image');
  });

  it('requires a start image for i2v and ti2v', () => {
    expectError(() => run('i2v', { prompt: 'x' }), 'invalid_parameter', 'start_image');
    expectError(() => run('ti2v', { prompt: 'x' }), 'invalid_parameter', 'start_image');
  });

  it('accepts an i2v end image with a warning', () => {
    const { warnings } = run('i2v', { prompt: 'x' }, { start: image(832, 480), end: image(832, 480) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/end_image/);
  });

  it('refuses ti2v frames whose aspect ratios differ by more than 5%', () => {
    expect(() => run('ti2v', { prompt: 'x' }, { start: image(1000, 1000), end: image(1040, 1000) })).not.toThrow();
    expectError(() => run('ti2v', { prompt: 'x' }, { start: image(1000, 1000), end: image(1100, 1000) }), 'invalid_parameter', 'end_image');
  });

  it('derives frames from duration and fps, or uses the model defaults', () => {
    expect(run('t2v', { prompt: 'x' }).spec).toMatchObject({ numFrames: 48, fps: 16 });
    expect(run('t2v', { prompt: 'x', duration_seconds: 2, fps: 24 }).spec).toMatchObject({ numFrames: 48, fps: 24 });
    expectError(() => run('t2v', { prompt: 'x', duration_seconds: 2, num_frames: 10 }), 'invalid_parameter', 'duration_seconds');
    expectError(() => run('t2v', { prompt: 'x', num_frames: 121 }), 'capability_unsupported', 'num_frames');
  });

  it('makes one video per job', () => {
    expectError(() => run('t2v', { prompt: 'x', num_images: 2 }), 'invalid_parameter', 'num_images');
  });
});

describe('normalizeRequest: LoRAs and backend settings', () => {
  const loraModel: ModelConfig = {
    ...model,
    loras: ['detail', 'grain'],
    backendSettings: { checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clipSkip: 2, loras: [{ name: 'style', weight: 0.8 }] },
  };
  const withLoras = (req: GenerationRequest) => normalizeRequest('t2i', req, { model: loraModel, capabilities, randomSeed: () => 1 }).spec;

  it("carries the request's LoRAs and a frozen copy of the model's backend settings", () => {
    const spec = withLoras({ prompt: 'a fox', loras: [{ name: 'grain', weight: 0.4 }, { name: 'detail' }] });
    expect(spec.loras).toEqual([{ name: 'grain', weight: 0.4 }, { name: 'detail', weight: 1 }]);
    expect(spec.backendSettings).toEqual({ checkpoint: 'anime.safetensors', vae: 'kl-f8.safetensors', clipSkip: 2, loras: [{ name: 'style', weight: 0.8 }] });
    expect(spec.backendSettings).not.toBe(loraModel.backendSettings);
    expect(Object.isFrozen(spec.backendSettings)).toBe(true);
  });

  it('leaves both out when neither the request nor the model has any', () => {
    const spec = normalize({ prompt: 'a fox' });
    expect(spec).not.toHaveProperty('loras');
    expect(spec).not.toHaveProperty('backendSettings');
    expect(withLoras({ prompt: 'a fox' })).not.toHaveProperty('loras');
  });

  it('refuses LoRAs the model does not declare, and any LoRA on a model without loras', () => {
    expectError(() => withLoras({ prompt: 'a fox', loras: [{ name: 'style', weight: 1 }] }), 'invalid_parameter', 'loras[0].name');
    expectError(() => normalize({ prompt: 'a fox', loras: [{ name: 'detail', weight: 1 }] }), 'invalid_parameter', 'loras');
  });
});

describe('normalizeRequest: hires fix', () => {
  const refused = (mode: 't2i' | 'i2i', req: GenerationRequest, caps: BackendCapabilities = capabilities) => {
    try {
      normalizeRequest(mode, req, { model: { ...model, modes: ['t2i', 'i2i'] }, capabilities: caps, randomSeed: () => 1, images: mode === 'i2i' ? { reference: image(512, 512) } : {} });
    } catch (error) {
      return error as AtelierError;
    }
    throw new Error('expected a refusal');
  };

  it('runs it when asked on text-to-image by a backend that can', () => {
    expect(normalize({ prompt: 'a fox', hires_fix: true }).hiresFix).toBe(true);
    expect(normalize({ prompt: 'a fox', hires_fix: false }).hiresFix).toBe(false);
    expect(normalize({ prompt: 'a fox' }).hiresFix).toBe(false);
  });

  it('refuses it (parameter_unsupported, field hires_fix) where the backend has no second pass', () => {
    const error = refused('t2i', { prompt: 'a fox', hires_fix: true }, { ...capabilities, hiresFix: false });
    expect(error).toBeInstanceOf(AtelierError);
    expect([error.code, error.status, error.field]).toEqual(['parameter_unsupported', 422, 'hires_fix']);
  });

  it('refuses it on image-to-image, whatever the backend', () => {
    const error = refused('i2i', { prompt: 'a fox', hires_fix: true });
    expect([error.code, error.field, error.message]).toEqual(['parameter_unsupported', 'hires_fix', 'hires_fix applies to text-to-image only, not i2i']);
  });
});

