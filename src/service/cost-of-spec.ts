import type { ModelConfig } from '../backends/model-registry.js';
import { DEFAULT_PRICING, estimateCost, type CostEstimate } from '../jobs/cost.js';
import type { JobSpec } from '../jobs/job-spec.js';

/**
 * The cost estimate of a normalised job under its model's prices. Input images (reference,
 * start, end) and guidance images count as guidance images, each ControlNet unit as one
 * `controlnetCount`, each LoRA the request applies (weight ≠ 0) as one `loraCount` — the
 * model's own LoRAs are part of its price; the web UI calls the same estimateCost.
 */
export function costOfSpec(spec: JobSpec, model: ModelConfig): CostEstimate {
  return estimateCost(
    {
      mode: spec.mode,
      width: spec.width,
      height: spec.height,
      steps: spec.steps,
      numImages: spec.numImages,
      ...(spec.numFrames !== undefined ? { numFrames: spec.numFrames } : {}),
      hiresFix: spec.hiresFix,
      controlnetCount: spec.controlnet?.length ?? 0,
      guidanceImageCount: [spec.reference, spec.startImage, spec.endImage].filter(Boolean).length + (spec.guidanceImages?.length ?? 0),
      loraCount: (spec.loras ?? []).filter((lora) => lora.weight !== 0).length,
    },
    { ...DEFAULT_PRICING, ...model.pricing },
  );
}
