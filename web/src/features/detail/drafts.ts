import type { Draft, DraftMode } from '../generate/draft';
import type { AssetDetail, InputImageView, RunView } from './detail-api';

const ref = (image: InputImageView | undefined) => (image?.assetId ? { asset_id: image.assetId } : image?.uploadId ? { upload_id: image.uploadId } : undefined);

export function draftMode(detail: AssetDetail, run: RunView | undefined): DraftMode {
  const mode = run?.mode;
  if (mode === 'i2i') return 'i2i';
  if (mode === 't2v' || mode === 'i2v' || mode === 'ti2v' || detail.type === 'video') return 'video';
  return 't2i';
}

/**
 * "Reuse settings": the run's request again, as a snake_case request body, with this asset's
 * own seed (image i of a batch has seed + i) so the same picture comes out. Inputs (reference,
 * frames, guidance, ControlNet) are passed by their asset or upload ids.
 */
export function reuseDraft(detail: AssetDetail, run: RunView | undefined): Draft {
  const p = run?.parameters;
  const params: Record<string, unknown> = {
    prompt: detail.prompt,
    model: detail.modelUsed,
    width: detail.width,
    height: detail.height,
    steps: detail.parameters.steps,
    cfg_scale: detail.parameters.cfgScale,
    sampler: detail.parameters.sampler,
    seed: detail.parameters.seed,
  };
  if (detail.negativePrompt) params.negative_prompt = detail.negativePrompt;
  const mode = draftMode(detail, run);
  if (p) {
    // The run's size, not the output's: hires fix or a model's rounding may have changed it.
    params.width = p.width;
    params.height = p.height;
    if (mode !== 'video') {
      params.num_images = p.numImages;
      params.hires_fix = p.hiresFix;
    }
    if (mode === 'i2i') {
      if (p.denoiseStrength !== undefined) params.denoise_strength = p.denoiseStrength;
      if (p.exactCopy) params.exact_copy_mode = true;
      const reference = ref(p.referenceImage);
      if (reference) params.reference_image = reference;
    }
    if (mode === 'video') {
      if (p.numFrames !== undefined) params.num_frames = p.numFrames;
      if (p.fps !== undefined) params.fps = p.fps;
      const start = ref(p.startImage);
      const end = ref(p.endImage);
      if (start) params.start_image = start;
      if (end) params.end_image = end;
    }
    const guidance = (p.guidanceImages ?? []).map(ref).filter((r) => r !== undefined);
    if (guidance.length > 0) params.guidance_images = guidance;
    const units = (p.controlnet ?? []).flatMap((u) => {
      const image = ref(u.image);
      return image ? [{ image, type: u.type, weight: u.weight, start: u.start, end: u.end }] : [];
    });
    if (units.length > 0) params.controlnet = units;
  }
  const draft: Draft = { mode, params };
  const reference = p?.referenceImage?.assetId;
  return mode === 'i2i' && reference ? { ...draft, reference: { assetId: reference } } : draft;
}

/** "Use as reference": image to image starting from this picture, with its prompt and size. */
export function referenceDraft(detail: AssetDetail, previewUrl?: string): Draft {
  const params: Record<string, unknown> = { prompt: detail.prompt, width: detail.width, height: detail.height, reference_image: { asset_id: detail.id } };
  if (detail.negativePrompt) params.negative_prompt = detail.negativePrompt;
  return { mode: 'i2i', params, reference: { assetId: detail.id, url: previewUrl ?? detail.thumbnailUrl ?? detail.imageUrl } };
}
