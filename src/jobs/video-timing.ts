import { AtelierError } from '../errors/atelier-error.js';
import type { ModelConfig } from '../backends/model-registry.js';
import type { GenerationRequest } from './generation-request.js';

/**
 * Frames and frame rate of a video: `num_frames`, or `duration_seconds` × fps, or the
 * model's defaults — never both counts at once.
 */
export function resolveVideoTiming(req: GenerationRequest, model: ModelConfig): { numFrames: number; fps: number } {
  if (req.num_frames !== undefined && req.duration_seconds !== undefined) {
    throw new AtelierError('invalid_parameter', 'Expected either num_frames or duration_seconds, not both', { field: 'duration_seconds' });
  }
  const fps = req.fps ?? model.defaultFps ?? 16;
  const numFrames = req.num_frames ?? (req.duration_seconds !== undefined ? Math.max(1, Math.round(req.duration_seconds * fps)) : (model.defaultFrames ?? 48));
  const max = model.maxFrames ?? 241;
  if (numFrames > max) {
    throw new AtelierError('capability_unsupported', `Expected at most ${max} frames for model '${model.name}' but received ${numFrames}`, { field: req.num_frames !== undefined ? 'num_frames' : 'duration_seconds' });
  }
  return { numFrames, fps };
}
