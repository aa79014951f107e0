import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { TextToImageBody } from '../schemas/generate.js';
import { JobView } from '../schemas/job-view.js';
import { renderRun } from './run-view.js';

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

/** `POST /api/generate/{mode}`: accept a job, 202 with the run. */
export function generateRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/api/generate/text-to-image',
      {
        schema: {
          tags: ['generate'],
          summary: 'Create a text-to-image job',
          description: 'Validates, records and queues the job; returns 202 at once. Send an Idempotency-Key header to make retries safe.',
          security: [{ bearerAuth: [] }],
          headers: IdempotencyHeaders,
          body: TextToImageBody,
          response: { 202: JobView, 200: JobView, ...errorResponses },
        },
      },
      async (request, reply) => {
        const user = currentUser(request);
        const { job, replayed } = await deps.jobService.submitTextToImage(user, request.body, request.headers['idempotency-key']);
        if (replayed) void reply.header('idempotent-replayed', 'true');
        return reply
          .code(202)
          .header('location', `/api/status/${job.id}`)
          .send(await renderRun(deps, request, job));
      },
    );
  };
}
