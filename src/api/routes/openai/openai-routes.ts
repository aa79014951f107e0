import type { FastifyPluginAsync } from 'fastify';
import { AtelierError } from '../../../errors/atelier-error.js';
import type { AppDeps } from '../../app-deps.js';
import { requireUser } from '../../plugins/auth.js';
import { imageEditRoutes } from './image-edits.js';
import { imageGenerationRoutes } from './image-generations.js';
import { openaiModelRoutes } from './openai-models.js';
import { sendOpenAIError } from './openai-error.js';

/**
 * The OpenAI-compatible API under `/v1`, so the official clients work unchanged with
 * `baseURL: '<server>/v1'`: models, image generations and image edits. Every answer that is
 * not a success — validation, authentication, an unknown `/v1` route — is OpenAI's
 * `{error: {message, type, param, code}}`. Model aliases (`aliases` in the configuration)
 * apply here only.
 */
export function openaiRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(
      async (v1) => {
        v1.setErrorHandler(sendOpenAIError);
        // Outside the authenticated scope: an unknown route is a 404 whatever the token.
        v1.setNotFoundHandler((request, reply) => {
          sendOpenAIError(new AtelierError('not_found', `No route ${request.method} ${request.url.split('?')[0]}`), request, reply);
        });
        await v1.register(async (authed) => {
          requireUser(authed, deps.users);
          await authed.register(openaiModelRoutes(deps));
          await authed.register(imageGenerationRoutes(deps));
          await authed.register(imageEditRoutes(deps));
        });
      },
      { prefix: '/v1' },
    );
  };
}
