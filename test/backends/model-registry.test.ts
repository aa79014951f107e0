import { describe, expect, it } from 'vitest';
import { ModelRegistry, type ModelConfig } from '../../src/backends/model-registry.js';
import { AtelierError } from '../../src/errors/atelier-error.js';

const base = { backend: 'builtin', label: 'x', modes: ['t2i'], baseResolution: 512, defaultSteps: 20, defaultCfgScale: 7, defaultSampler: 'Euler' } as const;

describe('ModelRegistry', () => {
  const registry = new ModelRegistry([{ ...base, name: 'a' }, { ...base, name: 'b', default: true }] as ModelConfig[]);

  it('resolves no name to the default model', () => {
    expect(registry.resolve(undefined).name).toBe('b');
  });

  it('falls back to the first model when none is marked default', () => {
    expect(new ModelRegistry([{ ...base, name: 'only' }] as ModelConfig[]).defaultModel.name).toBe('only');
  });

  it('refuses an unknown model and lists the available ones', () => {
    try {
      registry.resolve('sdxl');
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(AtelierError);
      expect((error as AtelierError).code).toBe('unknown_model');
      expect((error as AtelierError).message).toBe("Unknown model 'sdxl'. Available models: a, b");
      expect((error as AtelierError).toJSON()).toMatchObject({ field: 'model', available: ['a', 'b'] });
    }
  });
});
