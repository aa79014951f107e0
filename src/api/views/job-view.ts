import type { Static } from 'typebox';
import type { AssetRow, JobRow, StoredVariant } from '../../db/schema.js';
import type { JobStatus } from '../../jobs/job-status.js';
import type { InputImage, JobSpec } from '../../jobs/job-spec.js';
import type { StoredEvaluation } from '../../db/repos/evaluations-repo.js';
import type { AssetView, CostView, EvaluationsView, JobView } from '../schemas/job-view.js';
import { deliveredContentType, type MediaLinks } from './media-links.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

const METRIC_FIELDS: Record<string, keyof Static<typeof EvaluationsView>> = { ssim: 'ssim', psnr: 'psnr', batch_diversity: 'batchDiversity', clip_score: 'clipScore' };

/** Groups stored evaluation rows into one scores object per asset id. */
export function evaluationsByAsset(rows: readonly StoredEvaluation[]): Map<string, Static<typeof EvaluationsView>> {
  const map = new Map<string, Record<string, number | string>>();
  for (const row of rows) {
    const scores = map.get(row.asset_id) ?? {};
    if (row.metric === 'phash') scores.phash = String(row.details?.hash ?? '');
    else if (METRIC_FIELDS[row.metric]) scores[METRIC_FIELDS[row.metric]!] = row.value;
    map.set(row.asset_id, scores);
  }
  return map as Map<string, Static<typeof EvaluationsView>>;
}

export async function toAssetView(asset: AssetRow, links: MediaLinks, evaluations: Static<typeof EvaluationsView> = {}): Promise<Static<typeof AssetView>> {
  return {
    id: asset.id,
    type: asset.type,
    index: asset.asset_index,
    ...(await links.linkAsset(asset)),
    // What `url` serves: a blurred output's delivered copy is not its PNG original.
    contentType: deliveredContentType(asset),
    variants: await Promise.all(
      (JSON.parse(asset.variants) as StoredVariant[]).map(async ({ key, ...variant }) => ({ ...variant, url: await links.link(key) })),
    ),
    metadata: JSON.parse(asset.metadata) as Record<string, unknown>,
    evaluations,
    urlExpiresAt: links.expiresAt.toISOString(),
    expiresAt: iso(asset.expires_at),
    createdAt: iso(asset.created_at)!,
  };
}

function inputView(image: InputImage) {
  return { ...image.source, format: image.format, width: image.width, height: image.height, sha256: image.sha256 };
}

/** The camelCase view of a run (seed 003 style) with signed links to its media. */
export async function toJobView(
  job: JobRow,
  assets: readonly AssetRow[],
  links: MediaLinks,
  backend: { kind: string; label: string },
  evaluations: ReadonlyMap<string, Static<typeof EvaluationsView>> = new Map(),
): Promise<Static<typeof JobView>> {
  const spec = JSON.parse(job.spec) as JobSpec;
  return {
    runId: job.id,
    status: job.status as JobStatus,
    mode: job.mode,
    model: job.model,
    backend,
    parameters: {
      prompt: spec.prompt,
      negativePrompt: spec.negativePrompt ?? null,
      width: spec.width,
      height: spec.height,
      steps: spec.steps,
      cfgScale: spec.cfgScale,
      sampler: spec.sampler,
      seed: spec.seed,
      numImages: spec.numImages,
      hiresFix: spec.hiresFix,
      priority: spec.priority,
      ...(spec.denoiseStrength !== undefined ? { denoiseStrength: spec.denoiseStrength, exactCopy: spec.exactCopy ?? false } : {}),
      ...(spec.reference ? { referenceImage: inputView(spec.reference) } : {}),
      ...(spec.startImage ? { startImage: inputView(spec.startImage) } : {}),
      ...(spec.endImage ? { endImage: inputView(spec.endImage) } : {}),
      ...(spec.numFrames !== undefined ? { numFrames: spec.numFrames, fps: spec.fps } : {}),
      ...(spec.guidanceImages?.length ? { guidanceImages: spec.guidanceImages.map(inputView) } : {}),
      ...(spec.controlnet?.length ? { controlnet: spec.controlnet.map((u) => ({ type: u.type, weight: u.weight, start: u.start, end: u.end, image: inputView(u.image) })) } : {}),
      ...(spec.loras?.length ? { loras: spec.loras.map(({ name, weight }) => ({ name, weight })) } : {}),
    },
    seed: Number(job.seed),
    progress: { fraction: job.progress, step: job.progress_step, totalSteps: job.progress_total },
    attempts: job.attempts,
    maxAttempts: job.max_attempts,
    error: job.status === 'succeeded' || job.error_code === null ? null : { code: job.error_code, message: job.error_message ?? '' },
    warnings: JSON.parse(job.warnings) as string[],
    cached: Boolean(job.cached),
    cachedFrom: job.cached_from,
    cost: job.cost === null ? null : (JSON.parse(job.cost) as Static<typeof CostView>),
    assets: await Promise.all(assets.map((a) => toAssetView(a, links, evaluations.get(a.id)))),
    statusUrl: `/api/status/${job.id}`,
    streamUrl: `/api/status/stream/${job.id}`,
    createdAt: iso(job.created_at)!,
    startedAt: iso(job.started_at),
    finishedAt: iso(job.finished_at),
  };
}
