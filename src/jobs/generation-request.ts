/**
 * A text-to-image request as the API receives it (seed 003 shape, snake_case). The HTTP
 * schema has already checked types and ranges; normalisation checks everything that
 * depends on more than one field or on the model.
 */
export interface TextToImageRequest {
  prompt: string;
  negative_prompt?: string;
  model?: string;
  width?: number;
  height?: number;
  aspect_ratio?: string;
  steps?: number;
  cfg_scale?: number;
  guidance_scale?: number;
  sampler?: string;
  /** -1 (or absent) draws a random seed. */
  seed?: number;
  num_images?: number;
  hires_fix?: boolean;
  priority?: number;
}
