import type { ModelRegistry } from '../backends/model-registry.js';
import type { JobRow } from '../db/schema.js';
import type { MediaMetrics } from '../media/image/media-metrics.js';
import { DEFAULT_PRESETS, type DeliveryPreset } from '../media/image/presets.js';
import type { SafetyScan } from '../media/safety/safety-scanner.js';
import type { StoreOutputsOptions } from './store-outputs.js';

/** The preset of a model without a configured one. */
export const DEFAULT_PRESET = DEFAULT_PRESETS.find((p) => p.name === 'stable-diffusion')!;

export interface StoreOptionsDeps {
  readonly registry: Pick<ModelRegistry, 'resolve'>;
  readonly media?: {
    readonly presetFor: (model: string) => DeliveryPreset;
    readonly metrics?: MediaMetrics;
    /** The safety scan of a model's outputs; undefined when its policy is `off`. */
    readonly safetyFor?: (model: string) => SafetyScan | undefined;
  };
}

/** storeOutputs' options for a job, the same for an in-process run and a remote worker's output. */
export function storeOptionsFor(deps: StoreOptionsDeps, job: Pick<JobRow, 'model'>, options: { readonly workspaceTtlMs: number; readonly now: () => number }): StoreOutputsOptions {
  const safety = deps.media?.safetyFor?.(job.model);
  return {
    modelLabel: deps.registry.resolve(job.model).label,
    preset: deps.media?.presetFor(job.model) ?? DEFAULT_PRESET,
    ...(deps.media?.metrics ? { mediaMetrics: deps.media.metrics } : {}),
    ...(safety ? { safety } : {}),
    workspaceTtlMs: options.workspaceTtlMs,
    now: options.now,
  };
}
