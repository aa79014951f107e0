import type { FastifyError, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { text } from 'node:stream/consumers';
import { AtelierError } from '../../errors/atelier-error.js';
import { MAX_SEED } from '../../jobs/job-spec.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser, requireUser } from '../plugins/auth.js';
import { setRetryAfter, toAtelierError } from '../plugins/error-handler.js';
import { requestOrigin } from '../plugins/origin.js';
import { createMediaLinks } from '../views/media-links.js';

const OpenAIError = Type.Object({
  error: Type.Object({ message: Type.String(), type: Type.String(), param: Type.Union([Type.String(), Type.Null()]), code: Type.Union([Type.String(), Type.Null()]) }),
});

const GenerationsBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 10_000 }),
    model: Type.Optional(Type.String({ minLength: 1 })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
    size: Type.Optional(Type.String({ pattern: '^(auto|\\d{2,4}x\\d{2,4})$', description: "'WIDTHxHEIGHT' or 'auto'" })),
    response_format: Type.Optional(Type.Union([Type.Literal('url'), Type.Literal('b64_json')])),
    output_format: Type.Optional(Type.Literal('png')),
    // Accepted for compatibility; they do not change what Atelier renders.
    quality: Type.Optional(Type.String()),
    style: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    background: Type.Optional(Type.String()),
    moderation: Type.Optional(Type.String()),
    // Seed 003 extras.
    negative_prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 150 })),
    cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
    sampler: Type.Optional(Type.String({ minLength: 1 })),
    seed: Type.Optional(Type.Integer({ minimum: -1, maximum: MAX_SEED })),
  },
  { additionalProperties: false },
);

const GenerationsResponse = Type.Object({
  created: Type.Integer(),
  data: Type.Array(
    Type.Object({ url: Type.Optional(Type.String()), b64_json: Type.Optional(Type.String()), revised_prompt: Type.String(), seed: Type.Integer() }),
  ),
});

/**
 * `POST /v1/images/generations`, compatible with the OpenAI Images API so the official
 * clients work unchanged: it waits for the run and answers with URLs or base64 PNGs. Errors
 * here take OpenAI's `{error:{message,type,param,code}}` shape.
 */
export function openaiImagesRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    requireUser(plugin, deps.users);
    plugin.setErrorHandler((error: FastifyError, request, reply) => {
      const e = toAtelierError(error, request);
      if (e.status >= 500) request.log.error({ err: error }, 'request failed');
      setRetryAfter(e, reply);
      const type = e.status === 401 ? 'authentication_error' : e.status === 429 ? 'rate_limit_error' : e.status >= 500 ? 'server_error' : 'invalid_request_error';
      void reply.code(e.status).send({ error: { message: e.message, type, param: e.field ?? null, code: e.code } });
    });
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/v1/images/generations',
      {
        schema: {
          tags: ['openai'],
          summary: 'OpenAI Images API: generate images and wait for them',
          security: [{ bearerAuth: [] }],
          body: GenerationsBody,
          response: { 200: GenerationsResponse, 400: OpenAIError, 401: OpenAIError, 404: OpenAIError, 409: OpenAIError, 422: OpenAIError, 429: OpenAIError, 500: OpenAIError, 503: OpenAIError, 504: OpenAIError },
        },
      },
      async (request) => {
        const user = currentUser(request);
        const body = request.body;
        const size = body.size && body.size !== 'auto' ? parseSize(body.size) : {};
        const { job } = await deps.jobService.submitTextToImage(user, {
          prompt: body.prompt,
          negative_prompt: body.negative_prompt,
          model: body.model,
          ...size,
          steps: body.steps,
          cfg_scale: body.cfg_scale,
          sampler: body.sampler,
          seed: body.seed,
          num_images: body.n,
        });
        const finished = await deps.jobService.waitForTerminal(job, deps.config.syncTimeoutSeconds * 1000);
        if (finished.status !== 'succeeded') {
          const code = finished.status === 'canceled' ? 'job_canceled' : 'job_failed';
          throw new AtelierError(code, finished.error_message ?? `The run ${finished.status}`);
        }
        const assets = await deps.assets.listForJob(job.id);
        const links = createMediaLinks(deps.storage, requestOrigin(request, deps.config.publicUrl), deps.config.media.workspaceUrlTtlSeconds);
        const data = await Promise.all(
          assets.map(async (asset) => {
            const seed = (JSON.parse(asset.metadata) as { seed: number }).seed;
            if (body.response_format === 'b64_json') {
              const bytes = await text((await deps.storage.get(asset.storage_key)).setEncoding('base64'));
              return { b64_json: bytes, revised_prompt: job.prompt, seed };
            }
            return { url: await links.link(asset.storage_key), revised_prompt: job.prompt, seed };
          }),
        );
        return { created: Math.floor(Number(finished.created_at) / 1000), data };
      },
    );
  };
}

function parseSize(size: string): { width: number; height: number } {
  const [width, height] = size.split('x').map(Number) as [number, number];
  return { width, height };
}
