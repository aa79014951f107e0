import { AtelierError } from '../errors/atelier-error.js';

export interface I2IInput {
  readonly prompt: string;
  readonly denoiseStrength: number | undefined;
  readonly referenceStrength: number | undefined;
  readonly exactCopyMode: boolean;
  readonly guidanceScale: number;
  readonly steps: number;
  readonly negativePrompt: string | undefined;
}

export interface I2IParameters {
  readonly denoiseStrength: number;
  readonly guidanceScale: number;
  readonly steps: number;
  readonly negativePrompt: string | undefined;
  readonly negativePromptUsed: boolean;
  readonly exactCopy: boolean;
  readonly warnings: readonly string[];
}

/** Denoise when neither denoise_strength nor reference_strength is sent (A1111's default). */
export const DEFAULT_DENOISE = 0.75;
/** Exact copy never denoises more than this (SPEC §3). */
export const EXACT_COPY_MAX_DENOISE = 0.05;

/**
 * SPEC §3 (seed 000, whose later prose wins over its code snippet): converts the deprecated
 * reference_strength, then clamps only in exact copy mode (flag set and prompt empty);
 * modify mode passes denoise, guidance and steps through exactly as given.
 *
 * @example resolveI2IParameters({ prompt: '', exactCopyMode: true, denoiseStrength: 0.3, … }).denoiseStrength // 0.05
 */
export function resolveI2IParameters(input: I2IInput): I2IParameters {
  const warnings: string[] = [];
  let denoise = input.denoiseStrength;
  if (input.referenceStrength !== undefined) {
    if (denoise === undefined) {
      denoise = round(1 - input.referenceStrength);
      warnings.push(`reference_strength is deprecated: converted ${input.referenceStrength} to denoise_strength ${denoise} (denoise_strength = 1 - reference_strength)`);
    } else {
      warnings.push('reference_strength is deprecated and was ignored because denoise_strength was also sent');
    }
  }
  denoise ??= DEFAULT_DENOISE;
  if (denoise < 0 || denoise > 1) {
    throw new AtelierError('invalid_parameter', `Expected number 0–1 for denoise_strength but received ${denoise}`, { field: 'denoise_strength' });
  }

  if (input.exactCopyMode && input.prompt.trim() === '') {
    const clamped = Math.min(denoise, EXACT_COPY_MAX_DENOISE);
    return {
      denoiseStrength: clamped,
      guidanceScale: 1.0,
      steps: Math.min(Math.max(6, Math.trunc(clamped * 100)), 10),
      negativePrompt: undefined,
      negativePromptUsed: false,
      exactCopy: true,
      warnings,
    };
  }
  if (input.exactCopyMode) warnings.push('exact_copy_mode applies only with an empty prompt; the prompt was given, so the reference is modified');
  return {
    denoiseStrength: denoise,
    guidanceScale: input.guidanceScale,
    steps: input.steps,
    negativePrompt: input.negativePrompt,
    negativePromptUsed: input.negativePrompt !== undefined,
    exactCopy: false,
    warnings,
  };
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
