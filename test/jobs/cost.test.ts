import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING, estimateCost, type CostInput, type ModelPricing } from '../../src/jobs/cost.js';

const IMAGE: CostInput = { mode: 't2i', width: 1024, height: 1024, steps: 30, numImages: 1 };
const VIDEO: CostInput = { mode: 't2v', width: 1280, height: 720, steps: 30, numImages: 1, numFrames: 48 };

function amount(input: CostInput, pricing: ModelPricing = DEFAULT_PRICING): number {
  return estimateCost(input, pricing).amount;
}

function sum(breakdown: object): number {
  return Object.values(breakdown).reduce((a: number, b: number) => a + b, 0);
}

describe('estimateCost', () => {
  it('prices a 1000×1000, 30-step batch of 2 at base + 0.1 × 1 MP × 30 × 2 = 7', () => {
    expect(estimateCost({ mode: 't2i', width: 1000, height: 1000, steps: 30, numImages: 2 }, DEFAULT_PRICING)).toEqual({
      amount: 7,
      currency: 'credits',
      breakdown: { base: 1, pixelSteps: 6, frames: 0, controlnet: 0, hiresFix: 0, guidanceImages: 0 },
    });
  });

  it('adds ControlNet, hires fix and guidance images as their own line items', () => {
    // compute 6; ControlNet +25% = 1.5; hires fix doubles the guided pass: +7.5; one guidance image 0.2.
    const estimate = estimateCost(
      { mode: 't2i', width: 1000, height: 1000, steps: 30, numImages: 2, controlnetCount: 1, guidanceImageCount: 1, hiresFix: true },
      DEFAULT_PRICING,
    );
    expect(estimate.breakdown).toEqual({ base: 1, pixelSteps: 6, frames: 0, controlnet: 1.5, hiresFix: 7.5, guidanceImages: 0.2 });
    expect(estimate.amount).toBe(16.2);
  });

  it('rounds to 4 decimals: 1024×1024 at 30 steps is 1 + 3.1457', () => {
    expect(estimateCost(IMAGE, DEFAULT_PRICING)).toMatchObject({ amount: 4.1457, breakdown: { pixelSteps: 3.1457 } });
  });

  it('prices a video by steps and by frames: 1280×720, 30 steps, 48 frames', () => {
    // 0.9216 MP: steps 0.1 × 0.9216 × 30 = 2.7648; frames 0.5 × 0.9216 × 48 = 22.1184.
    expect(estimateCost(VIDEO, DEFAULT_PRICING)).toEqual({
      amount: 25.8832,
      currency: 'credits',
      breakdown: { base: 1, pixelSteps: 2.7648, frames: 22.1184, controlnet: 0, hiresFix: 0, guidanceImages: 0 },
    });
  });

  it('ignores numFrames for image modes and requires it for video modes', () => {
    expect(amount({ ...IMAGE, numFrames: 100 })).toBe(amount(IMAGE));
    expect(() => amount({ ...VIDEO, numFrames: undefined })).toThrow('Expected integer ≥ 1 for numFrames but received nothing');
  });

  it('uses the model pricing, its currency, and the defaults for factors it leaves out', () => {
    const usd: ModelPricing = { currency: 'USD', base: 0.002, perMegapixelStep: 0.0004 };
    const estimate = estimateCost({ ...IMAGE, width: 1000, height: 1000, controlnetCount: 2 }, usd);
    // 0.002 + 0.0004 × 30 = 0.014, then ControlNet ×2 at the default 0.25: +0.012 × 0.5 = 0.006.
    expect(estimate).toMatchObject({ amount: 0.02, currency: 'USD', breakdown: { pixelSteps: 0.012, controlnet: 0.006 } });
    expect(amount(IMAGE, { ...DEFAULT_PRICING, perMegapixelStep: 0.2 })).toBeGreaterThan(amount(IMAGE));
    expect(amount({ ...IMAGE, controlnetCount: 1 }, { ...DEFAULT_PRICING, controlnet: 0 })).toBe(amount(IMAGE));
  });

  it('rises with every factor', () => {
    const factors: [string, CostInput, CostInput][] = [
      ['width', IMAGE, { ...IMAGE, width: 1536 }],
      ['height', IMAGE, { ...IMAGE, height: 1536 }],
      ['steps', IMAGE, { ...IMAGE, steps: 31 }],
      ['images', IMAGE, { ...IMAGE, numImages: 2 }],
      ['ControlNet units', { ...IMAGE, controlnetCount: 1 }, { ...IMAGE, controlnetCount: 2 }],
      ['guidance images', { ...IMAGE, guidanceImageCount: 1 }, { ...IMAGE, guidanceImageCount: 2 }],
      ['hires fix', IMAGE, { ...IMAGE, hiresFix: true }],
      ['LoRAs', { ...IMAGE, loraCount: 1 }, { ...IMAGE, loraCount: 2 }],
      ['frames', VIDEO, { ...VIDEO, numFrames: 49 }],
      ['video steps', VIDEO, { ...VIDEO, steps: 31 }],
      ['video resolution', VIDEO, { ...VIDEO, width: 1920, height: 1080 }],
    ];
    for (const [factor, lower, higher] of factors) {
      expect(amount(higher), factor).toBeGreaterThan(amount(lower));
    }
  });

  it('never falls as any factor grows, across a grid', () => {
    for (const steps of [1, 10, 50]) {
      let previous = -1;
      for (const numImages of [1, 2, 4, 8]) {
        const value = amount({ ...IMAGE, steps, numImages, controlnetCount: 1, hiresFix: true });
        expect(value).toBeGreaterThan(previous);
        previous = value;
      }
    }
  });

  it('has a breakdown that sums to the amount', () => {
    const inputs: CostInput[] = [
      IMAGE,
      VIDEO,
      { mode: 'i2i', width: 832, height: 1216, steps: 27, numImages: 3, controlnetCount: 3, guidanceImageCount: 2, hiresFix: true },
      { mode: 'ti2v', width: 1344, height: 768, steps: 17, numImages: 1, numFrames: 97, controlnetCount: 1, guidanceImageCount: 2 },
      { mode: 't2i', width: 832, height: 1216, steps: 27, numImages: 2, loraCount: 3 },
    ];
    for (const input of inputs) {
      const { amount: total, breakdown } = estimateCost(input, { currency: 'USD', base: 0.00123, perMegapixelStep: 0.000137, perFrame: 0.00071 });
      expect(sum(breakdown)).toBeCloseTo(total, 10);
      expect(Math.round(total * 10_000) / 10_000).toBe(total);
    }
  });

  it('refuses inputs and pricing it cannot price', () => {
    expect(() => amount({ ...IMAGE, width: 0 })).toThrow('Expected positive number for width but received 0');
    expect(() => amount({ ...IMAGE, numImages: 1.5 })).toThrow('Expected integer ≥ 1 for numImages but received 1.5');
    expect(() => amount(IMAGE, { ...DEFAULT_PRICING, base: -1 })).toThrow('Expected number ≥ 0 for pricing.base but received -1');
    expect(() => amount(IMAGE, { ...DEFAULT_PRICING, hiresFix: 0.5 })).toThrow('Expected number ≥ 1 for pricing.hiresFix');
  });

  it('charges a flat 0.1 per LoRA by default, as its own line item present only when there are LoRAs', () => {
    const withLoras = estimateCost({ ...IMAGE, width: 1000, height: 1000, numImages: 2, loraCount: 3 }, DEFAULT_PRICING);
    expect(withLoras).toEqual({
      amount: 7.3,
      currency: 'credits',
      breakdown: { base: 1, pixelSteps: 6, frames: 0, controlnet: 0, hiresFix: 0, guidanceImages: 0, loras: 0.3 },
    });
    expect(estimateCost({ ...IMAGE, loraCount: 0 }, DEFAULT_PRICING).breakdown).not.toHaveProperty('loras');
    expect(amount({ ...IMAGE, loraCount: 2 }, { ...DEFAULT_PRICING, lora: 0.5 })).toBe(amount(IMAGE) + 1);
    expect(amount({ ...IMAGE, loraCount: 2 }, { ...DEFAULT_PRICING, lora: 0 })).toBe(amount(IMAGE));
    expect(() => amount({ ...IMAGE, loraCount: -1 })).toThrow('Expected integer ≥ 0 for loraCount but received -1');
  });

  it('charges hires fix on text-to-image only, the one mode that runs it', () => {
    for (const mode of ['i2i', 't2v', 'i2v', 'ti2v'] as const) {
      const input = { ...IMAGE, mode, ...(mode === 'i2i' ? {} : { numFrames: 16 }) };
      const estimate = estimateCost({ ...input, hiresFix: true }, DEFAULT_PRICING);
      expect(estimate.breakdown.hiresFix, mode).toBe(0);
      expect(estimate.amount, mode).toBe(amount(input));
    }
    expect(estimateCost({ ...IMAGE, hiresFix: true }, DEFAULT_PRICING).breakdown.hiresFix).toBeGreaterThan(0);
  });
});

