import type { BackendCapabilities } from '../backends/backend.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { Mode } from './job-spec.js';

/**
 * Whether a job runs hires fix: only when asked for, on text-to-image, by a backend that has a
 * second pass. Anything else asking for it is refused before queueing — never accepted and
 * ignored, which would charge for a pass that never runs. Hires fix is a text-to-image option,
 * as in AUTOMATIC1111 (txt2img's `enable_hr`; its img2img has none).
 *
 * @example resolveHiresFix('t2i', true, { hiresFix: false }, 'dall-e') // throws parameter_unsupported
 * @throws AtelierError `parameter_unsupported` (422), field `hires_fix`.
 */
export function resolveHiresFix(mode: Mode, requested: boolean | undefined, capabilities: Pick<BackendCapabilities, 'hiresFix'>, model: string): boolean {
  if (requested !== true) return false;
  if (mode !== 't2i') throw new AtelierError('parameter_unsupported', `hires_fix applies to text-to-image only, not ${mode}`, { field: 'hires_fix' });
  if (!capabilities.hiresFix) throw new AtelierError('parameter_unsupported', `Model '${model}' cannot run hires fix (its backend has no second pass)`, { field: 'hires_fix' });
  return true;
}
