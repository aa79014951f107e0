import sharp from 'sharp';
import type { Backend } from '../src/backends/backend.js';
import type { Config } from '../src/main/config-schema.js';

/**
 * A backend that answers at once with a ready-made 64×64 PNG per image: what is left is
 * Atelier's own overhead — records, queue, events, thumbnail, provenance, atomic writes.
 * Shared by the embedded throughput/latency figure and the no-work cache-hit figure.
 */
export async function noWorkBackend(): Promise<Backend> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
  return {
    kind: 'no-work',
    label: 'no-work benchmark backend',
    capabilities: { modes: ['t2i'], samplers: ['Euler'], maxWidth: 4096, maxHeight: 4096, maxSteps: 150, maxBatch: 8, cancel: true, preview: false, hiresFix: false },
    async generate(spec) {
      return Array.from({ length: spec.numImages }, (_, index) => ({ kind: 'image' as const, index, seed: spec.seed + index, width: 64, height: 64, data: png }));
    },
  };
}

/** Makes the no-work backend the one (default) model of `config`. */
export function useNoWorkModel(config: Config): void {
  config.models = [{ name: 'no-work', backend: 'no-work', label: 'no work', modes: ['t2i'], baseResolution: 512, defaultSteps: 1, defaultCfgScale: 7, defaultSampler: 'Euler', default: true }];
}
