import { describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { appliedLoras, loraTag, promptWithLoraTags, resolveLoras, type LoraRequest } from '../../src/jobs/loras.js';

const model = { name: 'sdxl', loras: ['detail.safetensors', 'film-grain', 'anime'] };

function refusal(requested: LoraRequest[], forModel: { name: string; loras?: string[] } = model): AtelierError {
  try {
    resolveLoras(requested, forModel);
  } catch (error) {
    expect(error).toBeInstanceOf(AtelierError);
    expect((error as AtelierError).code).toBe('invalid_parameter');
    return error as AtelierError;
  }
  throw new Error('expected resolveLoras to refuse');
}

describe('resolveLoras', () => {
  it('keeps the request order, defaults the weight to 1 and freezes the result', () => {
    const loras = resolveLoras([{ name: 'anime', weight: -0.5 }, { name: 'film-grain' }], model);
    expect(loras).toEqual([{ name: 'anime', weight: -0.5 }, { name: 'film-grain', weight: 1 }]);
    expect(Object.isFrozen(loras)).toBe(true);
    expect(Object.isFrozen(loras![0])).toBe(true);
  });

  it('is undefined for no LoRAs or an empty list, whatever the model', () => {
    expect(resolveLoras(undefined, { name: 'plain' })).toBeUndefined();
    expect(resolveLoras([], { name: 'plain' })).toBeUndefined();
  });

  it('refuses any LoRA for a model that declares none, on the loras field', () => {
    const error = refusal([{ name: 'anime', weight: 1 }], { name: 'plain' });
    expect(error.field).toBe('loras');
    expect(error.message).toBe("Model 'plain' takes no LoRAs but received 1");
    expect(refusal([{ name: 'anime' }], { name: 'empty', loras: [] }).field).toBe('loras');
  });

  it('refuses an unknown name, naming the ones the model allows', () => {
    const error = refusal([{ name: 'anime' }, { name: 'detail' }]);
    expect(error.field).toBe('loras[1].name');
    expect(error.message).toBe("Expected one of detail.safetensors, film-grain, anime for loras[1].name of model 'sdxl' but received 'detail'");
    expect(error.details).toEqual({ available: model.loras });
  });

  it('refuses a name given twice', () => {
    expect(refusal([{ name: 'anime', weight: 1 }, { name: 'anime', weight: 0.5 }]).field).toBe('loras[1].name');
  });

  it.each([4.01, -4.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses weight %s (outside −4…4 or not finite)', (weight) => {
    const error = refusal([{ name: 'anime', weight }]);
    expect(error.field).toBe('loras[0].weight');
    expect(error.message).toMatch(/^Expected number -4–4 for loras\[0\]\.weight but received/);
  });

  it('accepts the bounds −4 and 4 and refuses more than 8 entries', () => {
    expect(resolveLoras([{ name: 'anime', weight: -4 }, { name: 'film-grain', weight: 4 }], model)).toHaveLength(2);
    const many = { name: 'many', loras: Array.from({ length: 9 }, (_, i) => `l${i}`) };
    expect(refusal(many.loras.map((name) => ({ name })), many).message).toBe('Expected at most 8 entries for loras but received 9');
  });
});

describe('appliedLoras', () => {
  it("applies the model's own LoRAs first, then the request's", () => {
    expect(appliedLoras({ loras: [{ name: 'b', weight: 0.5 }], backendSettings: { loras: [{ name: 'a', weight: 0.8 }] } })).toEqual([
      { name: 'a', weight: 0.8 },
      { name: 'b', weight: 0.5 },
    ]);
  });

  it("lets a request reweigh a model's LoRA in place, and weight 0 switch it off", () => {
    const backendSettings = { loras: [{ name: 'a', weight: 0.8 }, { name: 'c', weight: 1 }] };
    expect(appliedLoras({ loras: [{ name: 'b', weight: 1 }, { name: 'a', weight: 0.3 }], backendSettings })).toEqual([
      { name: 'a', weight: 0.3 },
      { name: 'c', weight: 1 },
      { name: 'b', weight: 1 },
    ]);
    expect(appliedLoras({ loras: [{ name: 'a', weight: 0 }], backendSettings })).toEqual([{ name: 'c', weight: 1 }]);
  });

  it('is empty for a spec with neither', () => {
    expect(appliedLoras({})).toEqual([]);
  });
});

describe('A1111 LoRA tags', () => {
  it('writes <lora:name:weight> and appends the tags to the prompt', () => {
    expect(loraTag({ name: 'detail', weight: 0.65 })).toBe('<lora:detail:0.65>');
    expect(loraTag({ name: 'grain', weight: -1 })).toBe('<lora:grain:-1>');
    expect(promptWithLoraTags('a fox', [{ name: 'detail', weight: 0.6 }, { name: 'grain', weight: 1 }])).toBe('a fox <lora:detail:0.6> <lora:grain:1>');
    expect(promptWithLoraTags('a fox', [])).toBe('a fox');
    expect(promptWithLoraTags('', [{ name: 'detail', weight: 1 }])).toBe('<lora:detail:1>');
  });
});
