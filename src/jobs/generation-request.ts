import type { ControlNetType } from './conditioning.js';

/**
 * An input image named by the request: an upload, an asset of the same user, or a public
 * URL (fetched SSRF-safe and kept as an upload).
 */
export type ImageRef = { upload_id: string } | { asset_id: string } | { url: string };

/**
 * A generation request as the API receives it (seed 003 shape, snake_case), for any mode.
 * The HTTP schema has already checked types and ranges; normalisation checks everything
 * that depends on more than one field, on the mode or on the model.
 */
export interface GenerationRequest {
  prompt?: string;
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
  /** Prompt cache use: seed-aware (default), seed-agnostic or off. */
  cache_mode?: 'seed-aware' | 'seed-agnostic' | 'off';
  // Image-to-image (SPEC §3).
  reference_image?: ImageRef;
  denoise_strength?: number;
  /** Deprecated: denoise_strength = 1 - reference_strength. */
  reference_strength?: number;
  exact_copy_mode?: boolean;
  // Video (SPEC §2).
  start_image?: ImageRef;
  end_image?: ImageRef;
  num_frames?: number;
  duration_seconds?: number;
  fps?: number;
  // Guided generation (seed 002), t2i and i2i.
  guidance_images?: ImageRef[];
  controlnet?: { image: ImageRef; type: ControlNetType; weight?: number; start?: number; end?: number }[];
  /** LoRAs by the names the model declares; weight −4…4, default 1. */
  loras?: { name: string; weight?: number }[];
  /** Where the run's status changes are POSTed, signed (src/webhooks); not part of the spec. */
  webhook?: string;
  /** Which changes: any of running, succeeded, failed, canceled (default the last three). */
  webhook_events?: ('running' | 'succeeded' | 'failed' | 'canceled')[];
}

/** Kept for the text-to-image call sites: the same shape with a required prompt. */
export type TextToImageRequest = GenerationRequest & { prompt: string };
