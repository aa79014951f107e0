import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import { JobView } from '../schemas/job-view.js';
import { renderRun } from './run-view.js';

/** Status and cancel of one run. */
export function statusRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/status/:runId',
      {
        schema: {
          tags: ['runs'],
          summary: 'Status, progress, assets and errors of a run',
          security: [{ bearerAuth: [] }],
          params: RunIdParams,
          response: { 200: JobView, ...errorResponses },
        },
      },
      async (request) => renderRun(deps, request, await deps.jobService.getForUser(currentUser(request), request.params.runId)),
    );

    app.post(
      '/api/runs/:runId/cancel',
      {
        schema: {
          tags: ['runs'],
          summary: 'Cancel a queued or running run',
          description: 'A queued run never starts; a running one is interrupted. Canceling a canceled run is a no-op; a finished one is a 409.',
          security: [{ bearerAuth: [] }],
          params: RunIdParams,
          response: { 200: JobView, ...errorResponses },
        },
      },
      async (request) => renderRun(deps, request, await deps.jobService.cancel(currentUser(request), request.params.runId)),
    );
  };
}
