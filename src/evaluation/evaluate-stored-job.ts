import type { NewAssetRow } from '../db/schema.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Storage } from '../storage/storage.js';
import type { ClipScorer } from './clip/clip-scorer.js';
import { evaluateOutputs, type EvaluatedOutput, type EvaluationFailure } from './evaluate-job.js';
import type { EvaluationsRepo } from '../db/repos/evaluations-repo.js';

export interface JobEvaluatorDeps {
  readonly storage: Storage;
  readonly evaluations: Pick<EvaluationsRepo, 'insertMany'>;
  readonly clip?: ClipScorer;
  /** Where failed metrics go; they never fail the job. */
  readonly warn: (failure: EvaluationFailure & { readonly jobId: string }) => void;
  readonly now: () => number;
}

type StoredAsset = Pick<NewAssetRow, 'id' | 'asset_index' | 'type' | 'storage_key'>;

/** Image bytes the caller still holds, by asset index: scored without reading them back. */
export type HeldImages = ReadonlyMap<number, Buffer>;

/**
 * Evaluates a succeeded job from what storage holds: its image assets' originals (or the
 * same pixels the caller still holds, `held`) and, for i2i, the held reference. Shaped as the runner's after-success hook, so it runs once the
 * assets are committed (the rows reference them) and never delays or fails the job itself.
 *
 * @example runnerDeps.onSucceeded = createJobEvaluator({ storage, evaluations, clip, warn: (f) => log.warn(f, 'evaluation failed'), now: Date.now })
 */
export function createJobEvaluator(deps: JobEvaluatorDeps) {
  return async (job: { readonly id: string }, spec: JobSpec, assets: readonly StoredAsset[], held?: HeldImages): Promise<void> => {
    const images = assets.filter((a) => a.type === 'image');
    if (images.length === 0) return;
    const outputs: EvaluatedOutput[] = [];
    for (const asset of images) outputs.push({ assetId: asset.id, index: asset.asset_index, png: held?.get(asset.asset_index) ?? (await read(deps.storage, asset.storage_key)) });
    const reference = spec.mode === 'i2i' && spec.reference ? await read(deps.storage, spec.reference.key) : undefined;
    const records = await evaluateOutputs({
      spec,
      outputs,
      ...(reference ? { reference } : {}),
      ...(deps.clip ? { clip: deps.clip } : {}),
      onError: (failure) => deps.warn({ ...failure, jobId: job.id }),
    });
    await deps.evaluations.insertMany(job.id, records, deps.now());
  };
}

async function read(storage: Storage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
