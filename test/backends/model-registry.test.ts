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

  describe('the default model for a mode', () => {
    const models = [
      { ...base, name: 'image', modes: ['t2i', 'i2i'], default: true },
      { ...base, name: 'clip', modes: ['t2v'] },
      { ...base, name: 'clip-2', modes: ['t2v'] },
      { ...base, name: 'animate', modes: ['ti2v'] },
    ] as ModelConfig[];
    const withModes = new ModelRegistry(models);

    it('is the default model when it has the mode', () => {
      expect(withModes.resolve(undefined, 'model', ['t2i']).name).toBe('image');
      expect(withModes.resolve(undefined, 'model', ['i2i']).name).toBe('image');
    });

    it('is the first model that has the mode otherwise (text-to-video gets a video model, not the image default)', () => {
      expect(withModes.resolve(undefined, 'model', ['t2v']).name).toBe('clip');
      expect(withModes.resolve(undefined, 'model', ['i2v', 'ti2v']).name).toBe('animate');
    });

    it('is the default video model when one is marked default', () => {
      const marked = new ModelRegistry(models.map((m) => ({ ...m, default: m.name === 'clip-2' })));
      expect(marked.resolve(undefined, 'model', ['t2v']).name).toBe('clip-2');
      expect(marked.resolve(undefined, 'model', ['t2i']).name).toBe('image');
    });

    it('falls back to the default model when none has the mode (which then refuses it by name)', () => {
      expect(withModes.resolve(undefined, 'model', ['i2v']).name).toBe('image');
    });

    it('leaves a named model alone', () => {
      expect(withModes.resolve('image', 'model', ['t2v']).name).toBe('image');
    });
  });
});

