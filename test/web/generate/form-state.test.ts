import { describe, expect, it } from 'vitest';
import { applyModel, drawSeed, effectiveMode, formReducer, INITIAL_FORM, MAX_SEED, requestSeed, type FormState } from '../../../web/src/features/generate/form-state';
import type { ImageSlot } from '../../../web/src/features/generate/image-slot';
import { formProblems } from '../../../web/src/features/generate/field-problems';
import { endFrameNote } from '../../../web/src/features/generate/problems';
import type { OpenApiDocument } from '../../../web/src/features/generate/schema-check';
import { MODELS } from './fixtures';

const init = (patch: Partial<FormState> = {}) => formReducer({ ...INITIAL_FORM, ...patch }, { type: 'init', models: MODELS });
const ready = (id: string): ImageSlot => ({ key: id, name: `${id}.png`, status: 'ready', progress: 1, ref: { upload_id: id } });

describe('form reducer', () => {
  it('starts on the default model with its defaults', () => {
    const form = init();
    expect(form).toMatchObject({ model: 'preview', steps: 30, cfgScale: 7.5, sampler: 'Euler', tab: 't2i' });
  });

  it('clamps to the new model and follows its defaults for untouched settings', () => {
    const touched = formReducer(init(), { type: 'set', patch: { steps: 100, numImages: 6, cfgScale: 7.5 } });
    const small = formReducer(touched, { type: 'model', name: 'small', models: MODELS });
    // steps were chosen (100) → clamped to 40; cfg untouched (7.5 = preview default) → 5; sampler → DDIM
    expect(small).toMatchObject({ model: 'small', steps: 40, numImages: 2, cfgScale: 5, sampler: 'DDIM', controlType: 'canny' });
  });

  it('keeps a sampler the user chose when the new model has it', () => {
    const form = formReducer(init(), { type: 'set', patch: { sampler: 'Euler a' } });
    expect(formReducer(form, { type: 'model', name: 'small', models: MODELS }).sampler).toBe('Euler a');
  });

  it('drops conditioning the new model cannot take', () => {
    const form = { ...init(), guidance: [ready('g1'), ready('g2')] };
    expect(applyModel(form, MODELS[1]!, MODELS[0]).guidance).toEqual([]);
    // A model whose backend has no second pass turns hires fix off rather than send it to be refused.
    const noHires = { ...MODELS[1]!, capabilities: { controlnet: [], guidanceImages: 0, hiresFix: false } };
    expect(applyModel({ ...form, hiresFix: true }, noHires, MODELS[0]).hiresFix).toBe(false);
    expect(applyModel({ ...form, hiresFix: true }, MODELS[1]!, MODELS[0]).hiresFix).toBe(true);
    expect(applyModel({ ...form, controlImage: ready('c'), controlType: 'canny' }, MODELS[0]!, MODELS[1]).controlImage).toBeUndefined();
  });

  it('switches the model list with the tab: t2i → i2i keeps preview, video picks a video model', () => {
    const i2i = formReducer(init(), { type: 'tab', tab: 'i2i', models: MODELS });
    expect(i2i).toMatchObject({ tab: 'i2i', model: 'preview' });
    const small = formReducer(init(), { type: 'model', name: 'small', models: MODELS });
    expect(formReducer(small, { type: 'tab', tab: 'i2i', models: MODELS }).model).toBe('preview');
    const video = formReducer(init(), { type: 'tab', tab: 'video', models: MODELS });
    expect(video).toMatchObject({ tab: 'video', model: 't2v', steps: 20, cfgScale: 5 });
  });

  it('a start frame turns a video into image-to-video and moves to a model that can', () => {
    const video = formReducer(init(), { type: 'tab', tab: 'video', models: MODELS });
    expect(effectiveMode(video, MODELS[2])).toBe('t2v');
    const withStart = formReducer(video, { type: 'slot', slot: 'start', value: ready('s'), models: MODELS });
    expect(withStart.model).toBe('i2v');
    expect(effectiveMode(withStart, MODELS[3])).toBe('i2v');
    expect(effectiveMode(withStart, { ...MODELS[3]!, modes: ['ti2v'] })).toBe('ti2v');
    const without = formReducer(withStart, { type: 'slot', slot: 'start', value: undefined, models: MODELS });
    expect(without.model).toBe('t2v');
  });

  it('tracks upload progress on whichever slot has the key', () => {
    const uploading: ImageSlot = { key: 'k', name: 'a.png', status: 'uploading', progress: 0 };
    let form = formReducer(init(), { type: 'guidance-add', slots: [uploading] });
    form = formReducer(form, { type: 'slot-update', key: 'k', patch: { progress: 0.5 } });
    expect(form.guidance[0]!.progress).toBe(0.5);
    form = formReducer(form, { type: 'slot-update', key: 'k', patch: { status: 'ready', ref: { upload_id: 'u1' } } });
    expect(form.guidance[0]).toMatchObject({ status: 'ready', ref: { upload_id: 'u1' } });
    expect(formReducer(form, { type: 'guidance-remove', key: 'k' }).guidance).toEqual([]);
  });
});

describe('seed rules', () => {
  it('unlocked sends -1, locked sends the seed', () => {
    expect(requestSeed({ seed: 42, seedLocked: false })).toBe(-1);
    expect(requestSeed({ seed: 42, seedLocked: true })).toBe(42);
    expect(requestSeed({ seed: null, seedLocked: true })).toBe(-1);
  });

  it('typing a seed locks it; clearing or -1 unlocks', () => {
    const typed = formReducer(init(), { type: 'seed', seed: 1234 });
    expect(typed).toMatchObject({ seed: 1234, seedLocked: true });
    expect(formReducer(typed, { type: 'seed', seed: null })).toMatchObject({ seed: null, seedLocked: false });
    expect(formReducer(typed, { type: 'seed', seed: -1 }).seedLocked).toBe(false);
  });

  it('the dice draws a fixed seed in range', () => {
    expect(drawSeed(() => 0)).toBe(0);
    expect(drawSeed(() => 0.999999999999)).toBe(MAX_SEED);
    for (let i = 0; i < 50; i++) {
      const seed = drawSeed();
      expect(Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED).toBe(true);
    }
  });

  it('reuse: after a run the unlocked field shows its seed, and locking keeps it', () => {
    const ran = formReducer(init(), { type: 'ran', seed: 777 });
    expect(ran).toMatchObject({ lastSeed: 777, seed: 777, seedLocked: false });
    expect(requestSeed(ran)).toBe(-1);
    const locked = formReducer(ran, { type: 'lock', locked: true, random: 5 });
    expect(requestSeed(locked)).toBe(777);
    // A locked seed survives the next run.
    const next = formReducer(locked, { type: 'ran', seed: 777 });
    expect(formReducer({ ...next, seed: 9 }, { type: 'ran', seed: 123 })).toMatchObject({ seed: 9, lastSeed: 123 });
  });

  it('locking with no seed at all draws one', () => {
    expect(formReducer(init(), { type: 'lock', locked: true, random: 55 })).toMatchObject({ seed: 55, seedLocked: true });
    expect(formReducer({ ...init(), seed: 3, seedLocked: true }, { type: 'lock', locked: false, random: 1 })).toMatchObject({ seed: 3, seedLocked: false });
  });
});

describe('field problems', () => {
  const path = '/api/generate/text-to-image';
  /** The part of the API's schema these fields need (src/api/schemas/generate.ts). */
  const doc: OpenApiDocument = {
    paths: {
      [path]: {
        post: {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    prompt: { type: 'string' },
                    steps: { type: 'integer', minimum: 1, maximum: 150 },
                    cfg_scale: { type: 'number', minimum: 0, maximum: 30 },
                    num_images: { type: 'integer', minimum: 1, maximum: 8 },
                    sampler: { type: 'string' },
                    seed: { type: 'integer', minimum: -1, maximum: 4294967295 },
                  },
                  additionalProperties: false,
                },
              },
            },
          },
        },
      },
    },
  };
  const small = () => formReducer(init(), { type: 'model', name: 'small', models: MODELS });
  const body = (form: ReturnType<typeof small>) => ({ prompt: form.prompt, steps: form.steps, cfg_scale: form.cfgScale, num_images: form.numImages, sampler: form.sampler, seed: -1 });

  it('values the API accepts but the model refuses are problems of their fields, in words', () => {
    expect(formProblems(undefined, path, {}, small(), MODELS[1])).toEqual([]);
    const wrong = { ...small(), steps: 41, numImages: 3, sampler: 'Euler' };
    expect(formProblems(undefined, path, body(wrong), wrong, MODELS[1])).toEqual([
      { field: 'sampler', key: 'sampler', message: 'Sampler Euler is not offered by small: pick one of DDIM, Euler a' },
      { field: 'steps', key: 'steps', message: 'Steps must be between 1 and 40 for small' },
      { field: 'numImages', key: 'num_images', message: 'Number of images must be between 1 and 2 for small' },
    ]);
    expect(formProblems(doc, path, body(wrong), wrong, MODELS[1]).map((p) => p.message)).toEqual([
      'Steps must be between 1 and 40 for small',
      'Number of images must be between 1 and 2 for small',
      'Sampler Euler is not offered by small: pick one of DDIM, Euler a',
    ]);
  });

  it('checks numbers against the schema: range, whole numbers, and an empty field explained', () => {
    const form = { ...init(), steps: Number.NaN, cfgScale: 31, numImages: 1.5 };
    expect(formProblems(doc, path, body(form), form, MODELS[0])).toEqual([
      { field: 'steps', key: 'steps', message: 'Steps is empty: enter a whole number between 1 and 150 for preview' },
      { field: 'cfgScale', key: 'cfg_scale', message: 'CFG scale must be between 0 and 30' },
      { field: 'numImages', key: 'num_images', message: 'Number of images must be a whole number between 1 and 8' },
    ]);
  });

  it('fields without a control of their own keep their JSON name', () => {
    const form = init();
    expect(formProblems(doc, path, { ...body(form), stepz: 5 }, form, MODELS[0])).toEqual([{ key: 'stepz', message: 'stepz: is not a field of this request' }]);
  });
});

describe('video end frame', () => {
  const ti2v = { ...MODELS[3]!, name: 'ti2v', modes: ['ti2v'] };
  const models = [...MODELS, ti2v];
  const frame = (key: string): ImageSlot => ({ key, name: `${key}.png`, status: 'ready', progress: 1, ref: { upload_id: key } });

  it('adding an end frame switches to a model that uses it; without one the model is kept and says it ignores it', () => {
    const video = formReducer(init({ prompt: 'p' }), { type: 'tab', tab: 'video', models });
    const started = formReducer(video, { type: 'slot', slot: 'start', value: frame('s'), models });
    expect(started.model).toBe('i2v');
    const ended = formReducer(started, { type: 'slot', slot: 'end', value: frame('e'), models });
    expect(ended.model).toBe('ti2v');
    expect(endFrameNote(ended, ti2v, models)).toBeUndefined();
    // Picked back by hand: said at once.
    const back = formReducer(ended, { type: 'model', name: 'i2v', models });
    expect(endFrameNote(back, MODELS[3], models)).toBe('i2v ignores the end frame, so it will not be sent. Pick ti2v to use it.');

    const noTi2v = formReducer(formReducer(started, { type: 'slot', slot: 'end', value: frame('e'), models: MODELS }), { type: 'init', models: MODELS });
    expect(noTi2v.model).toBe('i2v');
    expect(endFrameNote(noTi2v, MODELS[3], MODELS)).toBe('i2v ignores the end frame, so it will not be sent. No model on this server uses one.');
  });
});
