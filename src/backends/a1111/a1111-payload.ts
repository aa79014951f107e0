import type { JobSpec } from '../../jobs/job-spec.js';
import { a1111OverrideSettings, a1111Prompt } from './a1111-model-settings.js';

/** A1111's `resize_mode` for img2img: 0 just resize, 1 crop and resize, 2 resize and fill. */
export const RESIZE_CROP_AND_RESIZE = 1;

/** Used when an i2i spec carries no strength (the API's own default). */
const DEFAULT_DENOISE = 0.75;

/** Fields both endpoints take (processing.py `StableDiffusionProcessing` and models.py extras). */
function commonFields(spec: JobSpec, checkpoint: string | undefined): Record<string, unknown> {
  const overrides = a1111OverrideSettings(spec, checkpoint);
  return {
    prompt: a1111Prompt(spec), // with <lora:name:weight> tags
    negative_prompt: spec.negativePrompt ?? '',
    seed: spec.seed,
    sampler_name: spec.sampler,
    steps: spec.steps,
    cfg_scale: spec.cfgScale,
    width: spec.width,
    height: spec.height,
    // One batch of numImages: all_seeds is then seed, seed+1, … (SPEC §2's rule).
    batch_size: spec.numImages,
    n_iter: 1,
    ...(overrides === undefined ? {} : { override_settings: overrides }),
    send_images: true,
    save_images: false,
  };
}

/** Half the side, on A1111's grid of 8, never under 64. */
const firstPassSide = (side: number) => Math.max(64, Math.floor(side / 2 / 8) * 8);

/**
 * The POST /sdapi/v1/txt2img body for a t2i spec (PROTOCOLS §2).
 *
 * Hires fix keeps the job's size as the *output* size, because every later stage (metadata,
 * cost, the OpenAI-compatible `size`) reads width×height as what the user gets: the first
 * pass runs at half size and `hr_resize_x/y` bring the second pass to width×height. In the
 * web UI's terms that is "upscale by 2", not "render at width×height, then double it".
 *
 * @example buildTxt2ImgPayload(spec, 'sd_xl_base_1.0.safetensors')
 */
export function buildTxt2ImgPayload(spec: JobSpec, checkpoint?: string): Record<string, unknown> {
  const payload = commonFields(spec, checkpoint);
  if (!spec.hiresFix) return { ...payload, enable_hr: false };
  return {
    ...payload,
    width: firstPassSide(spec.width),
    height: firstPassSide(spec.height),
    enable_hr: true,
    hr_scale: 2,
    hr_resize_x: spec.width,
    hr_resize_y: spec.height,
    // 0 = as many steps as the first pass.
    hr_second_pass_steps: 0,
  };
}

/**
 * The POST /sdapi/v1/img2img body for an i2i spec. `initImage` is the reference already
 * center-cropped to width×height, so `resize_mode` 1 (crop and resize, A1111's center crop)
 * has nothing left to do and every backend sees the same pixels. A1111's img2img has no
 * hires fix; the flag is ignored here.
 *
 * @example buildImg2ImgPayload(spec, croppedPng)
 */
export function buildImg2ImgPayload(spec: JobSpec, initImage: Buffer, checkpoint?: string): Record<string, unknown> {
  return {
    ...commonFields(spec, checkpoint),
    init_images: [initImage.toString('base64')],
    resize_mode: RESIZE_CROP_AND_RESIZE,
    denoising_strength: spec.denoiseStrength ?? DEFAULT_DENOISE,
  };
}
