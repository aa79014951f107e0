import { UnrecoverableError } from '../../errors/signals.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import type { BackendCapabilities } from '../backend.js';

/**
 * The domain checks specs against capabilities before queueing; adapters repeat the check so
 * a spec that skipped it (an old queued job, a changed config) fails clearly instead of
 * reaching the upstream. Shared by the a1111 and openai adapters.
 *
 * @throws UnrecoverableError (`capability_unsupported`) naming what `who` cannot do.
 * @example assertCapabilities(spec, capabilities, 'The AUTOMATIC1111 backend')
 */
export function assertCapabilities(spec: JobSpec, capabilities: BackendCapabilities, who: string): void {
  const fail = (what: string) => {
    throw new UnrecoverableError(`${who} cannot ${what}`, 'capability_unsupported');
  };
  if (!capabilities.modes.includes(spec.mode)) fail(`run mode '${spec.mode}'`);
  if (!capabilities.samplers.includes(spec.sampler)) fail(`use sampler '${spec.sampler}' (it offers ${capabilities.samplers.join(', ')})`);
  if (!(spec.width >= 1 && spec.width <= capabilities.maxWidth && spec.height >= 1 && spec.height <= capabilities.maxHeight)) {
    fail(`render ${spec.width}x${spec.height} (at most ${capabilities.maxWidth}x${capabilities.maxHeight})`);
  }
  if (!(spec.steps >= 1 && spec.steps <= capabilities.maxSteps)) fail(`run ${spec.steps} steps`);
  if (!(spec.numImages >= 1 && spec.numImages <= capabilities.maxBatch)) fail(`render ${spec.numImages} images in one job`);
}
