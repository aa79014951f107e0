import { describe, expect, it } from 'vitest';
import { referenceDraft, reuseDraft } from '../../../web/src/features/detail/drafts';
import { imageDetail, imageRun } from './fixtures';

describe('drafts for the Generate screen', () => {
  it('reuses a text-to-image run with this image\'s own seed', () => {
    expect(reuseDraft(imageDetail(), imageRun())).toEqual({
      mode: 't2i',
      params: { prompt: 'a quiet harbour at dawn', negative_prompt: 'fog', model: 'preview', width: 512, height: 384, steps: 4, cfg_scale: 7.5, sampler: 'Euler', seed: 101, num_images: 2, hires_fix: true },
    });
  });

  it('reuses an image-to-image run with its reference and denoise', () => {
    const draft = reuseDraft(imageDetail(), imageRun({ mode: 'i2i' }, { denoiseStrength: 0.4, exactCopy: true, referenceImage: { assetId: 'ref-1', format: 'png', width: 64, height: 64 } }));
    expect(draft.mode).toBe('i2i');
    expect(draft.params).toMatchObject({ denoise_strength: 0.4, exact_copy_mode: true, reference_image: { asset_id: 'ref-1' } });
    expect(draft.reference).toEqual({ assetId: 'ref-1' });
    const fromUpload = reuseDraft(imageDetail(), imageRun({ mode: 'i2i' }, { denoiseStrength: 0.4, referenceImage: { uploadId: 'up-1', format: 'png', width: 64, height: 64 } }));
    expect(fromUpload.params.reference_image).toEqual({ upload_id: 'up-1' });
    expect(fromUpload.reference).toBeUndefined();
  });

  it('reuses a video run as a video draft without image-only fields', () => {
    const draft = reuseDraft(imageDetail({ type: 'video' }), imageRun({ mode: 'i2v' }, { numFrames: 16, fps: 8, startImage: { uploadId: 'up-s', format: 'png', width: 64, height: 64 } }));
    expect(draft.mode).toBe('video');
    expect(draft.params).toMatchObject({ num_frames: 16, fps: 8, start_image: { upload_id: 'up-s' } });
    expect(draft.params).not.toHaveProperty('num_images');
    expect(draft.params).not.toHaveProperty('hires_fix');
  });

  it('passes guidance images and ControlNet units by id', () => {
    const image = { assetId: 'g-1', format: 'png', width: 64, height: 64 };
    const draft = reuseDraft(imageDetail(), imageRun({}, { guidanceImages: [image], controlnet: [{ type: 'canny', weight: 0.8, start: 0, end: 1, image }] }));
    expect(draft.params).toMatchObject({ guidance_images: [{ asset_id: 'g-1' }], controlnet: [{ image: { asset_id: 'g-1' }, type: 'canny', weight: 0.8, start: 0, end: 1 }] });
  });

  it('falls back to the asset alone when the run is unreadable', () => {
    expect(reuseDraft(imageDetail(), undefined)).toEqual({
      mode: 't2i',
      params: { prompt: 'a quiet harbour at dawn', negative_prompt: 'fog', model: 'preview', width: 512, height: 384, steps: 4, cfg_scale: 7.5, sampler: 'Euler', seed: 101 },
    });
  });

  it('uses an image as the reference of a new image-to-image draft', () => {
    expect(referenceDraft(imageDetail(), 'http://h/high.webp')).toEqual({
      mode: 'i2i',
      params: { prompt: 'a quiet harbour at dawn', negative_prompt: 'fog', width: 512, height: 384, reference_image: { asset_id: 'asset-2' } },
      reference: { assetId: 'asset-2', url: 'http://h/high.webp' },
    });
  });
});
