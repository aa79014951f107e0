import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import { promptCacheKeys } from '../../src/jobs/prompt-cache-key.js';

const spec = (overrides: Partial<JobSpec> = {}): JobSpec =>
  Object.freeze({
    mode: 't2i',
    model: 'sdxl',
    prompt: 'a red fox',
    negativePrompt: undefined,
    width: 1024,
    height: 1024,
    steps: 30,
    cfgScale: 7.5,
    sampler: 'Euler',
    seed: 42,
    seedFixed: true,
    numImages: 1,
    hiresFix: false,
    priority: 0,
    ...overrides,
  });

const key = (overrides: Partial<JobSpec> = {}) => promptCacheKeys(spec(overrides)).seedHash;

describe('promptCacheKeys: LoRAs and backend settings', () => {
  it('keeps the keys of a run without LoRAs or backend settings what they were before either existed', () => {
    expect(promptCacheKeys(spec())).toEqual({
      seedHash: '616161338b0233b2c814e4410d44e929b8f5f0a423b080aed35f370d61d9de3d',
      anySeedHash: 'cf2843de83aed245f8150dafe838e63b78b52a6e2fe82abc4eda645a8194dfab',
    });
  });

  it('gives two jobs differing only in a LoRA, its weight or the LoRAs order different keys', () => {
    const one = key({ loras: [{ name: 'detail', weight: 0.6 }] });
    expect(one).not.toBe(key());
    expect(one).not.toBe(key({ loras: [{ name: 'grain', weight: 0.6 }] }));
    expect(one).not.toBe(key({ loras: [{ name: 'detail', weight: 0.7 }] }));
    const ab = key({ loras: [{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }] });
    expect(ab).not.toBe(key({ loras: [{ name: 'a', weight: 1 }, { name: 'b', weight: 0.5 }] }));
    expect(promptCacheKeys(spec({ loras: [{ name: 'detail', weight: 0.6 }] })).anySeedHash).not.toBe(promptCacheKeys(spec()).anySeedHash);
  });

  it("keys on the LoRAs applied: a weight-0 LoRA is none, and a model's own LoRA equals the same one requested", () => {
    expect(key({ loras: [{ name: 'detail', weight: 0 }] })).toBe(key());
    expect(key({ backendSettings: { loras: [{ name: 'detail', weight: 0.6 }] } })).toBe(key({ loras: [{ name: 'detail', weight: 0.6 }] }));
  });

  it("gives jobs of a model whose checkpoint, VAE or clip skip changed different keys", () => {
    const keys = [
      key(),
      key({ backendSettings: { checkpoint: 'a.safetensors' } }),
      key({ backendSettings: { checkpoint: 'b.safetensors' } }),
      key({ backendSettings: { vae: 'kl-f8.safetensors' } }),
      key({ backendSettings: { clipSkip: 2 } }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
