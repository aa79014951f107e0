import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { ImageToImageBody, ImageToVideoBody, TextToImageBody, TextToVideoBody } from '../schemas/generate.js';
import type { GenerationRequest } from '../../jobs/generation-request.js';
import { JobView } from '../schemas/job-view.js';
import { isTerminal } from '../../jobs/job-status.js';
import { MAX_WAIT_SECONDS, preferredWait } from './prefer-wait.js';
import { renderRun } from './run-view.js';
import { createRunWaits } from './wait-for-run.js';

const GenerateHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  prefer: Type.Optional(
    Type.String({
      maxLength: 1000,
      description: `RFC 7240. \`wait\` or \`wait=N\` (N 1–${MAX_WAIT_SECONDS}, default ${MAX_WAIT_SECONDS}) holds the response until the run ends or N seconds pass: 201 with the finished run and \`Preference-Applied: wait\`, else the usual 202. Disconnecting does not cancel the run.`,
    }),
  ),
});

const ROUTES = [
  { kind: 'text-to-image', body: TextToImageBody, summary: 'Create a text-to-image job' },
  { kind: 'image-to-image', body: ImageToImageBody, summary: 'Create an image-to-image job from an upload or asset' },
  { kind: 'text-to-video', body: TextToVideoBody, summary: 'Create a text-to-video job' },
  { kind: 'image-to-video', body: ImageToVideoBody, summary: 'Create an image-to-video job (i2v or ti2v, by the model)' },
] as const;

/**
 * `POST /api/generate/{mode}`: accept a job, 202 with the run — or, with `Prefer: wait`, hold
 * the response until the run ends (201 with the finished run) or the wait runs out (202).
 */
export function generateRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const waits = createRunWaits(plugin, deps);
    for (const route of ROUTES) {
      app.post(
        `/api/generate/${route.kind}`,
        {
          schema: {
            tags: ['generate'],
            summary: route.summary,
            description:
              'Validates, records and queues the job (with its input images) and returns 202 at once. Send an Idempotency-Key header to make retries safe. With `Prefer: wait[=N]` the response waits for the run: 201 when it ended in time (any terminal status; a prompt-cache hit at once), else 202.',
            security: [{ bearerAuth: [] }],
            headers: GenerateHeaders,
            body: route.body,
            response: { 201: JobView, 202: JobView, ...errorResponses },
          },
        },
        async (request, reply) => {
          const user = currentUser(request);
          // Read before submitting: a malformed preference refuses the request, not just the wait.
          const waitSeconds = preferredWait(request.headers.prefer);
          const { job, replayed } = await deps.jobService.submit(user, route.kind, request.body as GenerationRequest, request.headers['idempotency-key']);
          if (replayed) void reply.header('idempotent-replayed', 'true');
          void reply.header('location', `/api/status/${job.id}`);
          if (waitSeconds === undefined) return reply.code(202).send(await renderRun(deps, request, job));
          const held = await waits.hold(user, job, waitSeconds, reply);
          if (held.clientGone) {
            // Nobody to answer; the run goes on (follow it at its status URL).
            reply.hijack();
            reply.raw.destroy();
            return reply;
          }
          if (!isTerminal(held.job.status)) return reply.code(202).send(await renderRun(deps, request, held.job));
          return reply.code(201).header('preference-applied', 'wait').send(await renderRun(deps, request, held.job));
        },
      );
    }
  };
}
