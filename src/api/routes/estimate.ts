import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AtelierError } from '../../errors/atelier-error.js';
import { DEFAULT_PRICING, estimateCost } from '../../jobs/cost.js';
import { resolveHiresFix } from '../../jobs/hires-fix.js';
import { MAX_LORAS } from '../../jobs/loras.js';
import type { AppDeps } from '../app-deps.js';
import { errorResponses } from '../schemas/common.js';
import { CostView } from '../schemas/job-view.js';

/** `POST /api/estimate`: the cost of a job before submitting it (the UI computes the same). */
export function estimateRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/api/estimate',
      {
        schema: {
          tags: ['cost'],
          summary: "Estimate a job's cost from the model's prices",
          security: [{ bearerAuth: [] }],
          body: Type.Object(
            {
              model: Type.Optional(Type.String({ minLength: 1 })),
              mode: Type.Optional(Type.Union([Type.Literal('t2i'), Type.Literal('i2i'), Type.Literal('t2v'), Type.Literal('i2v'), Type.Literal('ti2v')])),
              width: Type.Integer({ minimum: 64, maximum: 4096 }),
              height: Type.Integer({ minimum: 64, maximum: 4096 }),
              steps: Type.Integer({ minimum: 1, maximum: 150 }),
              num_images: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
              num_frames: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
              hires_fix: Type.Optional(Type.Boolean()),
              controlnet_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 8 })),
              guidance_image_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
              lora_count: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LORAS, description: 'LoRAs the request applies (weight ≠ 0)' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: CostView, ...errorResponses },
        },
      },
      async (request) => {
        const body = request.body;
        const model = deps.registry.resolve(body.model);
        const mode = body.mode ?? model.modes[0]!;
        if (!model.modes.includes(mode)) {
          throw new AtelierError('capability_unsupported', `Model '${model.name}' does not support ${mode} (it supports ${model.modes.join(', ')})`, { field: 'mode' });
        }
        const video = mode === 't2v' || mode === 'i2v' || mode === 'ti2v';
        const numFrames = body.num_frames ?? (video ? (model.defaultFrames ?? 48) : undefined);
        const estimate = estimateCost(
          {
            mode,
            width: body.width,
            height: body.height,
            steps: body.steps,
            numImages: body.num_images ?? 1,
            ...(numFrames !== undefined ? { numFrames } : {}),
            // Priced only when it would run; a request the server would refuse is refused here too.
            hiresFix: resolveHiresFix(mode, body.hires_fix, deps.backends.get(model.backend)?.capabilities ?? { hiresFix: false }, model.name),
            controlnetCount: body.controlnet_count ?? 0,
            guidanceImageCount: body.guidance_image_count ?? 0,
            loraCount: body.lora_count ?? 0,
          },
          { ...DEFAULT_PRICING, ...model.pricing },
        );
        return { ...estimate, breakdown: { ...estimate.breakdown } };
      },
    );
  };
}
