import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { GenerationRequest } from '../../jobs/generation-request.js';
import { createAjv } from '../../validation/create-ajv.js';
import { ajvErrorsToAtelierError } from '../../validation/format-ajv-error.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { ImageToImageBody, ImageToVideoBody, TextToImageBody, TextToVideoBody } from '../schemas/generate.js';

const KINDS = { 'text-to-image': TextToImageBody, 'image-to-image': ImageToImageBody, 'text-to-video': TextToVideoBody, 'image-to-video': ImageToVideoBody } as const;
type Kind = keyof typeof KINDS;

/** `POST /api/cache/lookup` (seed 002): is an identical run cached, and under which key. */
export function cacheRoutes(deps: AppDeps): FastifyPluginAsync {
  // The parameters are validated by the very schema of the route they would be sent to.
  const strict = createAjv('strict');
  const validators = Object.fromEntries(Object.entries(KINDS).map(([kind, schema]) => [kind, strict.compile(schema)])) as Record<Kind, ReturnType<typeof strict.compile>>;
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/api/cache/lookup',
      {
        schema: {
          tags: ['cache'],
          summary: 'Look up the prompt cache for a request without submitting it',
          description: 'Returns the SHA-256 key the request would use and, on a hit, the run whose assets a submission would copy.',
          security: [{ bearerAuth: [] }],
          body: Type.Object(
            {
              kind: Type.Union(Object.keys(KINDS).map((k) => Type.Literal(k as Kind)), { default: 'text-to-image' }),
              parameters: Type.Object({}, { additionalProperties: true, description: 'The body you would POST to /api/generate/{kind}' }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              hit: Type.Boolean(),
              mode: Type.String(),
              key: Type.Union([Type.String(), Type.Null()]),
              seedAgnostic: Type.Boolean(),
              runId: Type.Union([Type.String(), Type.Null()]),
              cachedAt: Type.Union([Type.String(), Type.Null()]),
              expiresAt: Type.Union([Type.String(), Type.Null()]),
              reason: Type.Optional(Type.String()),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const kind = request.body.kind as Kind;
        const validate = validators[kind];
        const parameters = request.body.parameters;
        if (!validate(parameters)) throw ajvErrorsToAtelierError(validate.errors!, parameters, 'parameters');
        const { mode, key, hit } = await deps.jobService.lookupCache(currentUser(request), kind, parameters as GenerationRequest);
        return {
          hit: hit !== undefined,
          mode,
          key: key?.hash ?? null,
          seedAgnostic: key?.seedAgnostic ?? false,
          runId: hit?.source.id ?? null,
          cachedAt: hit ? new Date(hit.createdAt).toISOString() : null,
          expiresAt: hit ? new Date(hit.expiresAt).toISOString() : null,
          ...(key ? {} : { reason: mode === 'off' ? 'cache_mode is off' : 'a random seed asks for a new image; fix the seed or use seed-agnostic' }),
        };
      },
    );
  };
}
