import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { JobRow } from '../../db/schema.js';
import type { AppDeps } from '../app-deps.js';
import { requireAdmin } from '../plugins/auth.js';
import { errorResponses, runListQueryFields } from '../schemas/common.js';

const DEFAULT_LIMIT = 50;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const AdminJobsQuery = Type.Object(
  {
    ...runListQueryFields('Jobs', DEFAULT_LIMIT),
  },
  { additionalProperties: false },
);

const AdminJob = Type.Object({
  id: Type.String(),
  status: Type.String(),
  userId: Type.String(),
  userName: Nullable(Type.String({ description: 'null once the user was removed' })),
  mode: Type.String(),
  model: Type.String(),
  backend: Type.String(),
  prompt: Type.String(),
  progress: Type.Number(),
  attempts: Type.Integer(),
  cached: Type.Boolean(),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
  durationMs: Nullable(Type.Integer({ description: 'From start to finish; for a running job, so far; null before it starts' })),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/**
 * `GET /api/admin/jobs`: every user's jobs, newest first, for the admin screen's jobs table
 * (the same keyset paging as GET /api/runs). Canceling one is POST /api/runs/{runId}/cancel,
 * which admins may call on any run.
 */
export function adminJobsRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/admin/jobs',
      {
        schema: {
          tags: ['admin'],
          summary: "Every user's jobs, newest first, with status, user, model, duration and error (admin)",
          security: [{ bearerAuth: [] }],
          querystring: AdminJobsQuery,
          response: { 200: Type.Object({ jobs: Type.Array(AdminJob), nextCursor: Nullable(Type.String()) }), ...errorResponses },
        },
      },
      async (request) => {
        requireAdmin(request);
        const { limit = DEFAULT_LIMIT, ...filters } = request.query;
        const page = await deps.jobService.listRuns(undefined, { ...filters, limit });
        const names = new Map((await deps.users.list()).map((user) => [user.id, user.name]));
        const now = Date.now();
        return { jobs: page.jobs.map((job) => view(job, names.get(job.user_id) ?? null, now)), nextCursor: page.nextCursor };
      },
    );
  };
}

function view(job: JobRow, userName: string | null, now: number) {
  const started = job.started_at === null ? null : Number(job.started_at);
  const finished = job.finished_at === null ? null : Number(job.finished_at);
  const end = finished ?? (job.status === 'running' ? now : null);
  return {
    id: job.id,
    status: job.status,
    userId: job.user_id,
    userName,
    mode: job.mode,
    model: job.model,
    backend: job.backend,
    prompt: job.prompt,
    progress: job.progress,
    attempts: job.attempts,
    cached: !!job.cached,
    createdAt: iso(Number(job.created_at))!,
    startedAt: iso(started),
    finishedAt: iso(finished),
    durationMs: started !== null && end !== null ? Math.max(0, end - started) : null,
    // A run that succeeded after a retry keeps its earlier attempt's error; it is no error now.
    error: job.error_code && job.status !== 'succeeded' ? { code: job.error_code, message: job.error_message ?? '' } : null,
  };
}
