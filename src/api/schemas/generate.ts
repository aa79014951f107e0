import { Type } from 'typebox';
import { ASPECT_RATIOS } from '../../jobs/aspect-ratio.js';
import { CONTROLNET_TYPES, MAX_CONTROLNET_UNITS, MAX_GUIDANCE_IMAGES } from '../../jobs/conditioning.js';
import { MAX_SEED } from '../../jobs/job-spec.js';
import { LORA_WEIGHT_MAX, LORA_WEIGHT_MIN, MAX_LORAS } from '../../jobs/loras.js';
import { webhookFields } from './webhook.js';

/**
 * The parameters every image request shares (seed 003 request shape, snake_case). Ranges
 * here are the outer bounds; the model's own limits are checked after.
 */
export const imageParameterFields = {
  prompt: Type.String({ maxLength: 10_000, description: 'What to generate' }),
  negative_prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Registry name; the default model when omitted" })),
  width: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096 })),
  height: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096 })),
  aspect_ratio: Type.Optional(Type.Union(ASPECT_RATIOS.map((r) => Type.Literal(r)))),
  steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 150 })),
  cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
  guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 30, description: 'Alias of cfg_scale' })),
  sampler: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  seed: Type.Optional(Type.Integer({ minimum: -1, maximum: MAX_SEED, description: '-1 draws a random seed; image i of a batch uses seed + i' })),
  num_images: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
  hires_fix: Type.Optional(Type.Boolean()),
  priority: Type.Optional(Type.Integer({ minimum: -100, maximum: 100, description: 'Higher runs first' })),
  cache_mode: Type.Optional(
    Type.Union([Type.Literal('seed-aware'), Type.Literal('seed-agnostic'), Type.Literal('off')], {
      description: 'Prompt cache: seed-aware (default) reuses a finished run with the same fixed seed; seed-agnostic any seed; off never',
    }),
  ),
  loras: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 200, description: "One of the model's `loras` (GET /api/models)" }),
          weight: Type.Optional(Type.Number({ minimum: LORA_WEIGHT_MIN, maximum: LORA_WEIGHT_MAX, description: 'Strength; default 1, 0 switches the LoRA off' })),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_LORAS, description: "LoRAs to apply, by the names the model declares; after the model's own" },
    ),
  ),
};

/** An input image: an upload, or an image asset of the caller's workspace or library. */
export const ImageRefSchema = Type.Union([
  Type.Object({ upload_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ asset_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object(
    { url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL of a public image; private and metadata addresses are refused' }) },
    { additionalProperties: false },
  ),
]);

/** Guided generation (seed 002): guidance images and ControlNet units, for t2i and i2i. */
const conditioningFields = {
  guidance_images: Type.Optional(
    Type.Array(ImageRefSchema, { maxItems: MAX_GUIDANCE_IMAGES, description: "Style/subject guidance images (IP-Adapter-like); the model's capabilities.guidanceImages is its maximum" }),
  ),
  controlnet: Type.Optional(
    Type.Array(
      Type.Object(
        {
          image: ImageRefSchema,
          type: Type.Union(CONTROLNET_TYPES.map((t) => Type.Literal(t)), { description: "One of the model's capabilities.controlnet" }),
          weight: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Default 1; 0 disables the unit' })),
          start: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the schedule where the unit starts acting; default 0' })),
          end: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the schedule where it stops; default 1' })),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_CONTROLNET_UNITS, description: 'ControlNet units: a control image and its type and weight' },
    ),
  ),
};

export const TextToImageBody = Type.Object({ ...imageParameterFields, ...conditioningFields, ...webhookFields }, { additionalProperties: false });

export const ImageToImageBody = Type.Object(
  {
    ...imageParameterFields,
    prompt: Type.Optional(Type.String({ maxLength: 10_000, description: 'Empty with exact_copy_mode: reproduce the reference' })),
    reference_image: ImageRefSchema,
    denoise_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: '0 keeps the reference, 1 ignores it; default 0.75' })),
    reference_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1, deprecated: true, description: 'Deprecated: denoise_strength = 1 - reference_strength' })),
    exact_copy_mode: Type.Optional(Type.Boolean({ description: 'With an empty prompt: denoise ≤ 0.05, guidance 1, 6–10 steps, no negative prompt' })),
    ...conditioningFields,
    ...webhookFields,
  },
  { additionalProperties: false },
);

const videoFields = {
  prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
  negative_prompt: imageParameterFields.negative_prompt,
  model: imageParameterFields.model,
  width: imageParameterFields.width,
  height: imageParameterFields.height,
  aspect_ratio: imageParameterFields.aspect_ratio,
  steps: imageParameterFields.steps,
  cfg_scale: imageParameterFields.cfg_scale,
  guidance_scale: imageParameterFields.guidance_scale,
  sampler: imageParameterFields.sampler,
  seed: imageParameterFields.seed,
  priority: imageParameterFields.priority,
  cache_mode: imageParameterFields.cache_mode,
  loras: imageParameterFields.loras,
  num_frames: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  duration_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60 })),
  fps: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
  ...webhookFields,
};

// Image fields are accepted by the schema so the mode rules can refuse them with a clear
// message ("text-to-video takes no start_image") rather than as unknown fields.
export const TextToVideoBody = Type.Object(
  { ...videoFields, start_image: Type.Optional(ImageRefSchema), end_image: Type.Optional(ImageRefSchema), reference_image: Type.Optional(ImageRefSchema) },
  { additionalProperties: false },
);

export const ImageToVideoBody = Type.Object(
  { ...videoFields, start_image: ImageRefSchema, end_image: Type.Optional(ImageRefSchema) },
  { additionalProperties: false },
);

