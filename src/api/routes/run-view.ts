import type { FastifyRequest } from 'fastify';
import type { AssetRow, JobRow } from '../../db/schema.js';
import type { AppDeps } from '../app-deps.js';
import { requestOrigin } from '../plugins/origin.js';
import { createMediaLinks } from '../views/media-links.js';
import { evaluationsByAsset, toJobView } from '../views/job-view.js';

/** Loads a run's assets and renders its view with links valid for this request's origin. */
export async function renderRun(deps: AppDeps, request: FastifyRequest, job: JobRow) {
  return renderRunAt(deps, requestOrigin(request, deps.config.publicUrl), job);
}

/** What {@link renderRunAt} reads. */
export type RunViewDeps = Pick<AppDeps, 'assets' | 'evaluations' | 'storage' | 'backends' | 'config'>;

/**
 * {@link renderRun} with links for `origin`, outside any request: a webhook delivery's body is
 * this, so it is exactly what `GET /api/status/{runId}` returns.
 */
export async function renderRunAt(deps: RunViewDeps, origin: string, job: JobRow) {
  const assets = job.status === 'succeeded' ? await deps.assets.listForJob(job.id) : [];
  const links = createMediaLinks(deps.storage, origin, deps.config.media.workspaceUrlTtlSeconds);
  const backend = deps.backends.get(job.backend);
  const evaluations = assets.length > 0 ? evaluationsByAsset(await deps.evaluations.listByAssetIds(assets.map((a) => a.id))) : new Map();
  return toJobView(job, assets, links, { kind: backend?.kind ?? job.backend, label: backend?.label ?? job.backend }, evaluations);
}

/** {@link renderRun} for a page of runs: their assets and scores read in two queries, not two per run. */
export async function renderRuns(deps: AppDeps, request: FastifyRequest, jobs: readonly JobRow[]) {
  const finished = jobs.filter((job) => job.status === 'succeeded').map((job) => job.id);
  const assets = await deps.assets.listForJobs(finished);
  const byJob = new Map<string, AssetRow[]>();
  for (const asset of assets) byJob.set(asset.job_id, [...(byJob.get(asset.job_id) ?? []), asset]);
  const evaluations = assets.length > 0 ? evaluationsByAsset(await deps.evaluations.listByAssetIds(assets.map((a) => a.id))) : new Map();
  const links = createMediaLinks(deps.storage, requestOrigin(request, deps.config.publicUrl), deps.config.media.workspaceUrlTtlSeconds);
  return Promise.all(
    jobs.map((job) => {
      const backend = deps.backends.get(job.backend);
      return toJobView(job, byJob.get(job.id) ?? [], links, { kind: backend?.kind ?? job.backend, label: backend?.label ?? job.backend }, evaluations);
    }),
  );
}
