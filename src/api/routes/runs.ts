import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AtelierError } from '../../errors/atelier-error.js';
import { MAX_SEED } from '../../jobs/job-spec.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses, runListQueryFields, RunIdParams } from '../schemas/common.js';
import { JobView } from '../schemas/job-view.js';
import { renderRun, renderRuns } from './run-view.js';

const DEFAULT_LIMIT = 20;

const RunsQuery = Type.Object(
  {
    ...runListQueryFields('Runs', DEFAULT_LIMIT),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Admins: another user's id (default: the caller)" })),
  },
  { additionalProperties: false },
);

const RunsPage = Type.Object({
  runs: Type.Array(JobView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last' }),
});

const RerunBody = Type.Object(
  { seed: Type.Optional(Type.Integer({ minimum: -1, maximum: MAX_SEED, description: 'Another seed (-1: random); default: the recorded one' })) },
  { additionalProperties: false },
);

/** `GET /api/runs` (the caller's runs, paged) and `POST /api/runs/{runId}/rerun`. */
export function runsRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/runs',
      {
        schema: {
          tags: ['runs'],
          summary: "The caller's runs in every status, newest first, with cursor paging",
          description: 'Each item is the run view GET /api/status/{runId} returns. The cursor is opaque and stable: runs submitted meanwhile never shift a later page.',
          security: [{ bearerAuth: [] }],
          querystring: RunsQuery,
          response: { 200: RunsPage, ...errorResponses },
        },
      },
      async (request) => {
        const caller = currentUser(request);
        const { user: userId = caller.id, limit = DEFAULT_LIMIT, ...filters } = request.query;
        if (userId !== caller.id && caller.role !== 'admin') throw new AtelierError('forbidden', "Only an admin may list another user's runs", { field: 'user' });
        const page = await deps.jobService.listRuns(userId, { ...filters, limit });
        return { runs: await renderRuns(deps, request, page.jobs), nextCursor: page.nextCursor };
      },
    );

    app.post(
      '/api/runs/:runId/rerun',
      {
        schema: {
          tags: ['runs'],
          summary: 'Run a run again: the same parameters and seed (or {"seed": n}), as a new run',
          description:
            'The new run (202) belongs to the caller — the owner, or an admin — and renders again: for a deterministic backend the output is identical. Input images are reused while the run still holds them (or their upload or asset still exists); otherwise 409 inputs_expired.',
          security: [{ bearerAuth: [] }],
          params: RunIdParams,
          // Fastify validates a request without a body as null.
          body: Type.Union([RerunBody, Type.Null()]),
          response: { 202: JobView, ...errorResponses },
        },
      },
      async (request, reply) => {
        const user = currentUser(request);
        const seed = request.body?.seed;
        const job = await deps.jobService.rerun(user, request.params.runId, seed === undefined ? {} : { seed });
        return reply
          .code(202)
          .header('location', `/api/status/${job.id}`)
          .send(await renderRun(deps, request, job));
      },
    );
  };
}
