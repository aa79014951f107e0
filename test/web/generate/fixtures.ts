import type { ModelInfo } from '../../../web/src/features/generate/models';

const samplers = ['Euler', 'Euler a', 'DPM++ 2M', 'DDIM'];

function model(name: string, modes: string[], extra: Partial<ModelInfo> = {}): ModelInfo {
  return {
    name,
    label: name,
    default: false,
    modes,
    defaults: { width: 1024, height: 1024, steps: 30, cfgScale: 7.5, sampler: 'Euler' },
    limits: { maxWidth: 2048, maxHeight: 2048, maxSteps: 150, maxImages: 8 },
    samplers,
    ...extra,
  };
}

/** A registry like the built-in one, plus a small model with tighter limits and ControlNet. */
export const MODELS: ModelInfo[] = [
  model('preview', ['t2i', 'i2i'], { default: true, capabilities: { controlnet: [], guidanceImages: 4 } }),
  model('small', ['t2i'], {
    defaults: { width: 512, height: 512, steps: 20, cfgScale: 5, sampler: 'DDIM' },
    limits: { maxWidth: 1024, maxHeight: 1024, maxSteps: 40, maxImages: 2 },
    samplers: ['DDIM', 'Euler a'],
    capabilities: { controlnet: ['canny', 'depth'], guidanceImages: 0 },
  }),
  model('t2v', ['t2v'], { defaults: { width: 640, height: 640, steps: 20, cfgScale: 5, sampler: 'Euler' } }),
  model('i2v', ['i2v'], { defaults: { width: 640, height: 640, steps: 20, cfgScale: 5, sampler: 'Euler' } }),
];
