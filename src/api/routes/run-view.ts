import type { FastifyRequest } from 'fastify';
import type { JobRow } from '../../db/schema.js';
import type { AppDeps } from '../app-deps.js';
import { requestOrigin } from '../plugins/origin.js';
import { createMediaLinks } from '../views/media-links.js';
import { evaluationsByAsset, toJobView } from '../views/job-view.js';

/** Loads a run's assets and renders its view with links valid for this request's origin. */
export async function renderRun(deps: AppDeps, request: FastifyRequest, job: JobRow) {
  const assets = job.status === 'succeeded' ? await deps.assets.listForJob(job.id) : [];
  const links = createMediaLinks(deps.storage, requestOrigin(request, deps.config.publicUrl), deps.config.media.workspaceUrlTtlSeconds);
  const backend = deps.backends.get(job.backend);
  const evaluations = assets.length > 0 ? evaluationsByAsset(await deps.evaluations.listByAssetIds(assets.map((a) => a.id))) : new Map();
  return toJobView(job, assets, links, { kind: backend?.kind ?? job.backend, label: backend?.label ?? job.backend }, evaluations);
}
