import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../../app-deps.js';
import { currentUser } from '../../plugins/auth.js';
import { answerWithImages, atelierImageFields, ImagesResponse, parseSize, ResponseFormatSchema, SizeSchema } from './image-results.js';
import { modelName } from './model-name.js';
import { openaiErrorResponses } from './openai-error.js';
import { webhookFields } from '../../schemas/webhook.js';

const GenerationsBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 10_000 }),
    model: Type.Optional(Type.String({ minLength: 1 })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
    size: Type.Optional(SizeSchema),
    response_format: Type.Optional(ResponseFormatSchema),
    output_format: Type.Optional(Type.Literal('png')),
    // Accepted for compatibility; they do not change what Atelier renders.
    quality: Type.Optional(Type.String()),
    style: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    background: Type.Optional(Type.String()),
    moderation: Type.Optional(Type.String()),
    // Seed 003 extras.
    ...atelierImageFields,
    // Atelier's webhooks (README "Webhooks"): the run is also POSTed to `webhook`.
    ...webhookFields,
  },
  { additionalProperties: false },
);

/**
 * `POST /v1/images/generations`, compatible with the OpenAI Images API so the official
 * clients work unchanged: it waits for the run and answers with URLs or base64 PNGs.
 */
export function imageGenerationRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/images/generations',
      {
        schema: {
          tags: ['openai'],
          summary: 'OpenAI Images API: generate images and wait for them',
          security: [{ bearerAuth: [] }],
          body: GenerationsBody,
          response: { 200: ImagesResponse, ...openaiErrorResponses },
        },
      },
      async (request) => {
        const body = request.body;
        const { job } = await deps.jobService.submitTextToImage(currentUser(request), {
          prompt: body.prompt,
          negative_prompt: body.negative_prompt,
          model: modelName(deps, body.model),
          ...parseSize(body.size),
          steps: body.steps,
          cfg_scale: body.cfg_scale,
          sampler: body.sampler,
          seed: body.seed,
          num_images: body.n,
          webhook: body.webhook,
          webhook_events: body.webhook_events,
        });
        return answerWithImages(deps, request, job, body.response_format);
      },
    );
  };
}
