import { describe, expect, it } from 'vitest';
import { formReducer, INITIAL_FORM, type FormState } from '../../../web/src/features/generate/form-state';
import type { ImageSlot } from '../../../web/src/features/generate/image-slot';
import { bodyToForm, bucketAspectRatio, draftBody, formFromDraft, formToBody, requestFor } from '../../../web/src/features/generate/request-body';
import { promptStats } from '../../../web/src/features/generate/prompt-stats';
import { MODELS } from './fixtures';

const init = (patch: Partial<FormState> = {}) => formReducer({ ...INITIAL_FORM, ...patch }, { type: 'init', models: MODELS });
const ready = (id: string, previewUrl?: string): ImageSlot => ({ key: id, name: `${id}.png`, status: 'ready', progress: 1, ref: { upload_id: id }, ...(previewUrl ? { previewUrl } : {}) });

describe('form → request body', () => {
  it('text to image: snake_case fields, seed -1 unless locked, no empty negative prompt', () => {
    const form = init({ prompt: 'a red fox', aspectRatio: '16:9', numImages: 2, hiresFix: true });
    expect(requestFor(form, MODELS[0])).toEqual({
      mode: 't2i',
      path: '/api/generate/text-to-image',
      body: { prompt: 'a red fox', model: 'preview', aspect_ratio: '16:9', steps: 30, cfg_scale: 7.5, sampler: 'Euler', seed: -1, num_images: 2, hires_fix: true },
    });
    expect(formToBody({ ...form, seed: 42, seedLocked: true, negativePrompt: 'blur' })).toMatchObject({ seed: 42, negative_prompt: 'blur' });
  });

  it('image to image carries the ready reference, denoise and exact copy; an upload in flight is left out', () => {
    const form = formReducer(init({ prompt: '' }), { type: 'tab', tab: 'i2i', models: MODELS });
    const withRef = { ...form, reference: ready('u1'), denoise: 0.3, exactCopy: true };
    const { path, body } = requestFor(withRef, MODELS[0]);
    expect(path).toBe('/api/generate/image-to-image');
    expect(body).toMatchObject({ prompt: '', reference_image: { upload_id: 'u1' }, denoise_strength: 0.3, exact_copy_mode: true });
    expect(formToBody({ ...withRef, reference: { ...ready('u1'), status: 'uploading', progress: 0.2 } })).not.toHaveProperty('reference_image');
  });

  it('sends hires_fix from the text-to-image tab only (the server refuses it elsewhere)', () => {
    const t2i = init({ prompt: 'a fox', hiresFix: true });
    expect(formToBody(t2i)).toMatchObject({ hires_fix: true });
    const i2i = { ...formReducer(t2i, { type: 'tab', tab: 'i2i', models: MODELS }), reference: ready('r') };
    expect(formToBody(i2i)).not.toHaveProperty('hires_fix');
    expect(draftBody({ mode: 'i2i', params: { prompt: 'x', hires_fix: true } }, 1024)).not.toHaveProperty('hires_fix');
  });

  it('video: text-to-video without frames, image-to-video with a start frame; no image-only fields', () => {
    const video = formReducer(init({ prompt: 'waves' }), { type: 'tab', tab: 'video', models: MODELS });
    const t2v = requestFor({ ...video, durationSeconds: 2, fps: 8 }, MODELS[2]);
    expect(t2v.path).toBe('/api/generate/text-to-video');
    expect(t2v.body).toMatchObject({ duration_seconds: 2, fps: 8 });
    expect(t2v.body).not.toHaveProperty('num_images');
    expect(t2v.body).not.toHaveProperty('hires_fix');
    const withStart = formReducer(video, { type: 'slot', slot: 'start', value: ready('s'), models: MODELS });
    const i2v = requestFor({ ...withStart, end: ready('e') }, MODELS[3]);
    expect(i2v).toMatchObject({ mode: 'i2v', path: '/api/generate/image-to-video', body: { model: 'i2v', start_image: { upload_id: 's' } } });
    // A start-frame-only model would ignore the end frame (and charge for it): it is not sent.
    expect(i2v.body).not.toHaveProperty('end_image');
    const ti2vModel = { ...MODELS[3]!, name: 'ti2v', modes: ['ti2v'] };
    const ti2v = requestFor({ ...withStart, model: 'ti2v', end: ready('e') }, ti2vModel);
    expect(ti2v).toMatchObject({ mode: 'ti2v', path: '/api/generate/image-to-video', body: { start_image: { upload_id: 's' }, end_image: { upload_id: 'e' } } });
  });

  it('guidance images and one ControlNet unit for models that take them', () => {
    const form = { ...init({ prompt: 'p' }), guidance: [ready('g1'), { ...ready('g2'), status: 'uploading' as const }] };
    expect(formToBody(form, MODELS[0])).toMatchObject({ guidance_images: [{ upload_id: 'g1' }] });
    const small = formReducer(form, { type: 'model', name: 'small', models: MODELS });
    const control = { ...small, controlImage: ready('c'), controlType: 'depth', controlWeight: 0.6 };
    expect(formToBody(control, MODELS[1]).controlnet).toEqual([{ image: { upload_id: 'c' }, type: 'depth', weight: 0.6 }]);
    expect(formToBody(control, MODELS[0])).not.toHaveProperty('controlnet');
  });
});

describe('request body → form (JSON edits)', () => {
  it('round-trips every tab', () => {
    const t2i = { ...init({ prompt: 'a fox', negativePrompt: 'blur', aspectRatio: '3:2', numImages: 3, hiresFix: true }), seed: 9, seedLocked: true, guidance: [ready('g')] };
    expect(formToBody(bodyToForm(formToBody(t2i), t2i, MODELS))).toEqual(formToBody(t2i));
    const i2i = { ...formReducer(t2i, { type: 'tab', tab: 'i2i', models: MODELS }), reference: ready('r'), denoise: 0.2 };
    expect(formToBody(bodyToForm(formToBody(i2i), i2i, MODELS))).toEqual(formToBody(i2i));
    const video = { ...formReducer(t2i, { type: 'tab', tab: 'video', models: MODELS }), start: ready('s'), durationSeconds: 4 };
    expect(formToBody(bodyToForm(formToBody(video), video, MODELS))).toEqual(formToBody(video));
  });

  it('edits reach the form; unknown fields are kept in extra and sent', () => {
    const form = init({ prompt: 'a' });
    const next = bodyToForm({ ...formToBody(form), steps: 12, seed: 5, priority: 3, cache_mode: 'off', width: 768 }, form, MODELS);
    expect(next).toMatchObject({ steps: 12, seed: 5, seedLocked: true, extra: { priority: 3, cache_mode: 'off', width: 768 } });
    expect(formToBody(next)).toMatchObject({ steps: 12, seed: 5, priority: 3, cache_mode: 'off', width: 768 });
  });

  it('keeps a local preview for the same image and an upload still in flight', () => {
    const form = { ...formReducer(init(), { type: 'tab', tab: 'i2i', models: MODELS }), reference: ready('r', 'blob:x') };
    const same = bodyToForm(formToBody(form), form, MODELS);
    expect(same.reference).toBe(form.reference);
    const other = bodyToForm({ ...formToBody(form), reference_image: { asset_id: 'a1' } }, form, MODELS);
    expect(other.reference).toMatchObject({ ref: { asset_id: 'a1' }, status: 'ready' });
    expect(other.reference?.previewUrl).toBeUndefined();
    const uploading = { ...form, reference: { ...ready('r'), status: 'uploading' as const } };
    expect(bodyToForm(formToBody(uploading), uploading, MODELS).reference).toBe(uploading.reference);
  });

  it('fields of another tab stay extra (so the schema check names them)', () => {
    const form = init();
    expect(bodyToForm({ prompt: 'x', denoise_strength: 0.5 }, form, MODELS).extra).toEqual({ denoise_strength: 0.5 });
  });
});

describe('drafts (Reuse settings / Use as reference)', () => {
  it('a job view’s camelCase parameters become the request, with the aspect ratio of its size', () => {
    const params = { prompt: 'a fox', negativePrompt: null, width: 1344, height: 768, steps: 25, cfgScale: 6, sampler: 'DDIM', seed: 99, numImages: 2, hiresFix: false, priority: 0 };
    expect(draftBody({ mode: 't2i', params }, 1024)).toEqual({ prompt: 'a fox', aspect_ratio: '16:9', steps: 25, cfg_scale: 6, sampler: 'DDIM', seed: 99, num_images: 2, hires_fix: false });
    // Without the model's base resolution the size cannot be proven a bucket: it stays explicit.
    expect(draftBody({ mode: 't2i', params })).toMatchObject({ width: 1344, height: 768 });
    const form = formFromDraft({ mode: 't2i', params: { ...params, model: 'preview' } }, init(), MODELS);
    expect(form).toMatchObject({ tab: 't2i', prompt: 'a fox', aspectRatio: '16:9', steps: 25, seed: 99, seedLocked: true, numImages: 2, extra: {} });
  });

  it('an i2i job keeps its reference; "use as reference" sets the asset with its preview', () => {
    const reuse = formFromDraft({ mode: 'i2i', params: { prompt: 'p', referenceImage: { uploadId: 'u9', format: 'png', width: 8, height: 8, sha256: 'x' }, denoiseStrength: 0.4, exactCopy: false } }, init(), MODELS);
    expect(reuse).toMatchObject({ tab: 'i2i', denoise: 0.4, reference: { ref: { upload_id: 'u9' } } });
    const asRef = formFromDraft({ mode: 'i2i', params: {}, reference: { assetId: 'ast_1', url: '/media/a.png?sig=1' } }, init(), MODELS);
    expect(asRef).toMatchObject({ tab: 'i2i', reference: { ref: { asset_id: 'ast_1' }, previewUrl: '/media/a.png?sig=1', status: 'ready' } });
  });

  it('a video job: frames and fps become a duration', () => {
    const body = draftBody({ mode: 'video', params: { prompt: 'w', numFrames: 48, fps: 16, numImages: 1, hiresFix: false, startImage: { assetId: 'a2' } } });
    expect(body).toEqual({ prompt: 'w', duration_seconds: 3, fps: 16, start_image: { asset_id: 'a2' } });
  });

  it('a video’s size is the 16:9 bucket at its model’s base resolution', () => {
    expect(draftBody({ mode: 'video', params: { prompt: 'w', width: 832, height: 448 } })).toMatchObject({ width: 832, height: 448 });
    expect(draftBody({ mode: 'video', params: { prompt: 'w', width: 832, height: 448 } }, 640)).toEqual({ prompt: 'w', aspect_ratio: '16:9' });
    const form = formFromDraft({ mode: 'video', params: { prompt: 'w', model: 't2v', width: 832, height: 448, num_frames: 16, fps: 8 } }, init(), MODELS);
    expect(form).toMatchObject({ tab: 'video', aspectRatio: '16:9', durationSeconds: 2, fps: 8, extra: {} });
  });

  it('an explicit size that is no bucket stays width × height (reused at the same size)', () => {
    expect(bucketAspectRatio(1024, 1024, 1024)).toBe('1:1');
    expect(bucketAspectRatio(832, 1216, 1024)).toBe('2:3');
    expect(bucketAspectRatio(320, 256, 1024)).toBeUndefined();
    const form = formFromDraft({ mode: 't2i', params: { prompt: 'p', model: 'preview', width: 320, height: 256 } }, init(), MODELS);
    expect(form).toMatchObject({ aspectRatio: '', extra: { width: 320, height: 256 } });
    expect(formToBody(form)).toMatchObject({ width: 320, height: 256 });
    expect(formToBody(form)).not.toHaveProperty('aspect_ratio');
  });
});

describe('prompt stats', () => {
  it('counts characters and words as read', () => {
    expect(promptStats('').label).toBe('0 characters · 0 words');
    expect(promptStats('a').label).toBe('1 character · 1 word');
    expect(promptStats('  a red  fox\n in snow ').label).toBe('22 characters · 5 words');
    expect(promptStats('🦊 fox').characters).toBe(5);
  });
});
