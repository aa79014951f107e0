import { Type } from 'typebox';
import { ASPECT_RATIOS } from '../../jobs/aspect-ratio.js';
import { MAX_SEED } from '../../jobs/job-spec.js';

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
};

export const TextToImageBody = Type.Object(imageParameterFields, { additionalProperties: false });
