import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AtelierError } from '../../../errors/atelier-error.js';
import type { AppDeps } from '../../app-deps.js';
import { openaiErrorResponses } from './openai-error.js';

const Model = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer({ description: 'Unix seconds: when this server started (models come from its configuration)' }),
  owned_by: Type.String(),
});

/**
 * `GET /v1/models` and `GET /v1/models/{model}`: the configured models and the aliases, in
 * OpenAI's shape, so a client that checks a model (or lists them) before using it finds
 * `dall-e-3` when it is an alias. Richer details are at `GET /api/models`.
 */
export function openaiModelRoutes(deps: AppDeps): FastifyPluginAsync {
  const created = Math.floor(Date.now() / 1000);
  const models = () => [...deps.registry.list().map((model) => model.name), ...Object.keys(deps.config.aliases)].map((id) => ({ id, object: 'model' as const, created, owned_by: 'atelier' }));
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/models',
      {
        schema: {
          tags: ['openai'],
          summary: 'OpenAI Models API: the models and aliases this server offers',
          security: [{ bearerAuth: [] }],
          response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) }), ...openaiErrorResponses },
        },
      },
      async () => ({ object: 'list' as const, data: models() }),
    );
    app.get(
      '/models/:model',
      {
        schema: {
          tags: ['openai'],
          summary: 'OpenAI Models API: one model or alias',
          security: [{ bearerAuth: [] }],
          params: Type.Object({ model: Type.String({ minLength: 1, maxLength: 200 }) }),
          response: { 200: Model, ...openaiErrorResponses },
        },
      },
      async (request) => {
        const model = models().find((m) => m.id === request.params.model);
        if (!model) throw new AtelierError('not_found', `The model '${request.params.model}' does not exist`, { field: 'model' });
        return model;
      },
    );
  };
}
