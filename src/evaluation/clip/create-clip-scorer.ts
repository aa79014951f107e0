import type { ClipScorer } from './clip-scorer.js';
import { createExternalClipScorer, type ExternalClipConfig } from './external-clip-scorer.js';
import type { OnnxClipConfig } from './onnx-clip-scorer.js';

/** CLIP scoring configuration: a local ONNX model, or an evaluator service. */
export type ClipConfig = OnnxClipConfig | ExternalClipConfig;

/**
 * The configured scorer, or `undefined` when CLIP scoring is off. The ONNX module (and with it
 * `onnxruntime-node`) is imported only when a model is configured.
 *
 * @throws Error when the model or tokenizer cannot be loaded or breaks the contract.
 * @example const clip = await createClipScorer(config.evaluation?.clip)
 */
export async function createClipScorer(config: ClipConfig | undefined): Promise<ClipScorer | undefined> {
  if (!config) return undefined;
  if ('url' in config) return createExternalClipScorer(config);
  const { createOnnxClipScorer } = await import('./onnx-clip-scorer.js');
  return createOnnxClipScorer(config);
}
