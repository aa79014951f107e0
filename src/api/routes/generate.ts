import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { ImageToImageBody, ImageToVideoBody, TextToImageBody, TextToVideoBody } from '../schemas/generate.js';
import type { GenerationRequest } from '../../jobs/generation-request.js';
import { JobView } from '../schemas/job-view.js';
import { renderRun } from './run-view.js';

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});

const ROUTES = [
  { kind: 'text-to-image', body: TextToImageBody, summary: 'Create a text-to-image job' },
  { kind: 'image-to-image', body: ImageToImageBody, summary: 'Create an image-to-image job from an upload or asset' },
  { kind: 'text-to-video', body: TextToVideoBody, summary: 'Create a text-to-video job' },
  { kind: 'image-to-video', body: ImageToVideoBody, summary: 'Create an image-to-video job (i2v or ti2v, by the model)' },
] as const;

/** `POST /api/generate/{mode}`: accept a job, 202 with the run. */
export function generateRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    for (const route of ROUTES) {
      app.post(
        `/api/generate/${route.kind}`,
        {
          schema: {
            tags: ['generate'],
            summary: route.summary,
            description: 'Validates, records and queues the job (with its input images) and returns 202 at once. Send an Idempotency-Key header to make retries safe.',
            security: [{ bearerAuth: [] }],
            headers: IdempotencyHeaders,
            body: route.body,
            response: { 202: JobView, ...errorResponses },
          },
        },
        async (request, reply) => {
          const user = currentUser(request);
          const { job, replayed } = await deps.jobService.submit(user, route.kind, request.body as GenerationRequest, request.headers['idempotency-key']);
          if (replayed) void reply.header('idempotent-replayed', 'true');
          return reply
            .code(202)
            .header('location', `/api/status/${job.id}`)
            .send(await renderRun(deps, request, job));
        },
      );
    }
  };
}
