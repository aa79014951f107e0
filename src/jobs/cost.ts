import type { Mode } from './job-spec.js';

// This module is imported by the web UI as well as the server (SPEC §7: one function, same
// code on both sides), so it must stay pure: no I/O, no Node built-ins, no server imports.

/** What a job's cost depends on, in the terms both the API form and a JobSpec can supply. */
export interface CostInput {
  readonly mode: Mode;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly numImages: number;
  /** Video modes only (required there): frames in the clip. */
  readonly numFrames?: number;
  /** ControlNet units applied to the job (seed 002's ControlNet panel). */
  readonly controlnetCount?: number;
  /** Guidance images the job conditions on (seed 002's guidance uploader; reference/start/end images). */
  readonly guidanceImageCount?: number;
  /** Hires fix's second pass; priced on text-to-image only, the one mode that runs it. */
  readonly hiresFix?: boolean;
  /** LoRAs the request applies (the model's own are in its price). */
  readonly loraCount?: number;
}

/**
 * How one model is priced. The three required fields are per model; the optional ones fall
 * back to {@link DEFAULT_PRICING}'s values, so set one to 0 to make that factor free.
 */
export interface ModelPricing {
  readonly currency: 'USD' | 'credits';
  /** Flat charge per job (queueing, model load, post-processing). */
  readonly base: number;
  /** Per megapixel × step × image: the denoising work that dominates a diffusion job. */
  readonly perMegapixelStep: number;
  /** Video: per frame × megapixel, on top of the step charge. Default 0.5. */
  readonly perFrame?: number;
  /** Added multiplier of the compute charge per ControlNet unit (0.25 = +25% each). Default 0.25. */
  readonly controlnet?: number;
  /** Flat charge per guidance image (encoding it). Default 0.2. */
  readonly guidanceImage?: number;
  /** Multiplier of the compute charge when hires fix runs its second pass. Default 2. */
  readonly hiresFix?: number;
  /** Flat charge per LoRA the request applies (loading and patching it). Default 0.1. */
  readonly lora?: number;
}

/** The line items of an estimate; they sum to `amount` exactly (each is rounded first). */
export interface CostBreakdown {
  readonly base: number;
  /** perMegapixelStep × megapixels × steps × images. */
  readonly pixelSteps: number;
  /** Video: perFrame × megapixels × frames × images; 0 for image modes. */
  readonly frames: number;
  /** (pixelSteps + frames) × controlnet × ControlNet units. */
  readonly controlnet: number;
  /** The second pass: (pixelSteps + frames + controlnet) × (hiresFix − 1). */
  readonly hiresFix: number;
  /** guidanceImage × guidance images. */
  readonly guidanceImages: number;
  /** lora × LoRAs; present only when the job applies any, so other breakdowns keep their shape. */
  readonly loras?: number;
}

export interface CostEstimate {
  /** Rounded to 4 decimals; the sum of the breakdown. */
  readonly amount: number;
  readonly currency: ModelPricing['currency'];
  readonly breakdown: CostBreakdown;
}

/**
 * Pricing of models that configure none. The unit is an abstract credit: a 1024×1024,
 * 30-step image costs about 4.15, a 48-frame 1280×720 clip about 25.9.
 */
export const DEFAULT_PRICING = Object.freeze({
  currency: 'credits',
  base: 1,
  perMegapixelStep: 0.1,
  perFrame: 0.5,
  controlnet: 0.25,
  guidanceImage: 0.2,
  hiresFix: 2,
  lora: 0.1,
} as const satisfies Required<ModelPricing>);

const VIDEO_MODES: readonly Mode[] = ['t2v', 'i2v', 'ti2v'];
const UNITS = 10_000; // 4 decimals

/**
 * Estimates what a job costs under `pricing`. Pure and deterministic: the server returns it
 * with every job and the web UI shows the same number live while the form changes. Every
 * factor only ever raises the estimate (model, resolution, steps, images, frames,
 * ControlNet units, guidance images, hires fix on text-to-image, LoRAs).
 *
 * @example
 * estimateCost({ mode: 't2i', width: 1000, height: 1000, steps: 30, numImages: 2 }, DEFAULT_PRICING)
 * // → { amount: 7, currency: 'credits', breakdown: { base: 1, pixelSteps: 6, frames: 0, … } }
 * @throws RangeError for a negative, non-finite or (for counts) fractional input.
 */
export function estimateCost(input: CostInput, pricing: ModelPricing): CostEstimate {
  const width = positive('width', input.width);
  const height = positive('height', input.height);
  const steps = positive('steps', input.steps);
  const numImages = count('numImages', input.numImages, 1);
  const controlnets = count('controlnetCount', input.controlnetCount ?? 0, 0);
  const guidanceImages = count('guidanceImageCount', input.guidanceImageCount ?? 0, 0);
  const loras = count('loraCount', input.loraCount ?? 0, 0);
  const isVideo = VIDEO_MODES.includes(input.mode);
  // A video without a frame count cannot be priced; guessing would under-quote it.
  const frames = isVideo ? count('numFrames', input.numFrames, 1) : 0;

  const base = rate('base', pricing.base);
  const perMegapixelStep = rate('perMegapixelStep', pricing.perMegapixelStep);
  const perFrame = rate('perFrame', pricing.perFrame ?? DEFAULT_PRICING.perFrame);
  const controlnetRate = rate('controlnet', pricing.controlnet ?? DEFAULT_PRICING.controlnet);
  const guidanceRate = rate('guidanceImage', pricing.guidanceImage ?? DEFAULT_PRICING.guidanceImage);
  const hiresMultiplier = rate('hiresFix', pricing.hiresFix ?? DEFAULT_PRICING.hiresFix, 1);
  const loraRate = rate('lora', pricing.lora ?? DEFAULT_PRICING.lora);

  const megapixels = (width * height) / 1_000_000;
  const pixelSteps = perMegapixelStep * megapixels * steps * numImages;
  const frameCharge = perFrame * megapixels * frames * numImages;
  const compute = pixelSteps + frameCharge;
  // A ControlNet runs beside the denoiser at every step, so it scales the compute.
  const controlnet = compute * controlnetRate * controlnets;
  // Hires fix repeats the whole (ControlNet-guided) pass at the larger size. It runs on
  // text-to-image only (src/jobs/hires-fix.ts), so nothing else is ever charged for it.
  const hiresFix = input.hiresFix === true && input.mode === 't2i' ? (compute + controlnet) * (hiresMultiplier - 1) : 0;

  const breakdown: CostBreakdown = {
    base: round(base),
    pixelSteps: round(pixelSteps),
    frames: round(frameCharge),
    controlnet: round(controlnet),
    hiresFix: round(hiresFix),
    guidanceImages: round(guidanceRate * guidanceImages),
    ...(loras > 0 ? { loras: round(loraRate * loras) } : {}),
  };
  // Sum in integer units so the rounded line items add up to the amount with no float drift.
  const units = (Object.values(breakdown) as number[]).reduce((sum, value) => sum + Math.round(value * UNITS), 0);
  return { amount: units / UNITS, currency: pricing.currency, breakdown };
}

/** To 4 decimals. */
function round(value: number): number {
  return Math.round(value * UNITS) / UNITS;
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Expected positive number for ${name} but received ${String(value)}`);
  }
  return value;
}

function count(name: string, value: number | undefined, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`Expected integer ≥ ${min} for ${name} but received ${value === undefined ? 'nothing' : String(value)}`);
  }
  return value;
}

function rate(name: string, value: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`Expected number ≥ ${min} for pricing.${name} but received ${String(value)}`);
  }
  return value;
}
