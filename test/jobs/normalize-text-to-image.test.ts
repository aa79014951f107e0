import { describe, expect, it } from 'vitest';
import type { BackendCapabilities } from '../../src/backends/backend.js';
import type { ModelConfig } from '../../src/backends/model-registry.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { normalizeTextToImage } from '../../src/jobs/normalize-text-to-image.js';
import type { TextToImageRequest } from '../../src/jobs/generation-request.js';

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
  modes: ['t2i'],
  samplers: ['Euler', 'DPM++ 2M'],
  maxWidth: 2048,
  maxHeight: 2048,
  maxSteps: 150,
  maxBatch: 8,
  cancel: true,
  preview: false,
};
const normalize = (req: TextToImageRequest, seed = 1234) => normalizeTextToImage(req, { model, capabilities, randomSeed: () => seed });

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

describe('normalizeTextToImage', () => {
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
    expect(() => normalizeTextToImage({ prompt: 'x' }, { model: { ...model, modes: ['i2i'] }, capabilities, randomSeed: () => 1 })).toThrow(/does not support text-to-image/);
  });
});
