import type { JobSpec } from '../jobs/job-spec.js';
import type { ClipScorer } from './clip/clip-scorer.js';
import { batchDiversity, hammingDistance, perceptualHash } from './perceptual-hash.js';
import { referenceScores } from './reference-scores.js';

export type EvaluationMetric = 'ssim' | 'psnr' | 'phash' | 'batch_diversity' | 'clip_score';

/**
 * One score of one asset, ready to store (see `EvaluationsTable`). What each metric holds:
 * - `phash`: value 0 (the hash is the result, not a quantity); details `{ hash }` (16 hex
 *   digits) and, in a batch, `{ nearest_index, nearest_distance }`: the most similar other
 *   image and its Hamming distance (0–64), which flags near-duplicates.
 * - `batch_diversity`: the job's mean pairwise pHash distance / 64 (0 = copies, ~0.5 =
 *   unrelated), repeated on every asset of a batch of two or more so each asset's view shows
 *   it without reading its siblings; details `{ batch_size }`.
 * - `ssim` (−1…1) and `psnr` (dB): i2i only, against the reference center-cropped to the
 *   output; details `{ width, height }`. Identical pixels give PSNR {@link PSNR_CAP_DB} with
 *   `{ capped: true }`, since Infinity survives neither SQL nor JSON.
 * - `clip_score`: 100 × max(0, cosine) of image and prompt (CLIPScore), when a scorer is
 *   configured and the prompt is not empty.
 */
export interface EvaluationRecord {
  readonly asset_id: string;
  readonly metric: EvaluationMetric;
  readonly value: number;
  readonly details?: Record<string, unknown>;
}

/** One stored image of the job: its asset id, batch index and PNG bytes. */
export interface EvaluatedOutput {
  readonly assetId: string;
  readonly index: number;
  readonly png: Buffer;
}

export interface EvaluationFailure {
  readonly metric: EvaluationMetric;
  /** Undefined for a job-level metric. */
  readonly assetId: string | undefined;
  readonly error: unknown;
}

export interface EvaluateOutputsInput {
  readonly spec: Pick<JobSpec, 'mode' | 'prompt'>;
  /** Image outputs only; videos are not evaluated. */
  readonly outputs: readonly EvaluatedOutput[];
  /** i2i: the reference bytes as uploaded (they are center-cropped here). */
  readonly reference?: Buffer;
  readonly clip?: ClipScorer;
  /**
   * Called for each metric that fails; the others are still computed. Without it the first
   * failure is thrown, so nothing fails silently.
   */
  readonly onError?: (failure: EvaluationFailure) => void;
}

/** PSNR stored for identical images: above any real difference (≥ 60 dB is invisible). */
export const PSNR_CAP_DB = 100;

/**
 * Every score of a finished job's images (SPEC §7), as records to store. Pure orchestration:
 * no database, no storage; images are processed one at a time to bound memory.
 *
 * @example
 * const records = await evaluateOutputs({ spec, outputs: [{ assetId, index: 0, png }], reference, clip, onError: (f) => log.warn(f) })
 * await evaluations.insertMany(job.id, records, Date.now())
 */
export async function evaluateOutputs(input: EvaluateOutputsInput): Promise<EvaluationRecord[]> {
  const { spec, reference, clip } = input;
  const outputs = [...input.outputs].sort((a, b) => a.index - b.index);
  const records: EvaluationRecord[] = [];
  const attempt = async <T>(metric: EvaluationMetric, assetId: string | undefined, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      if (!input.onError) throw error;
      input.onError({ metric, assetId, error });
      return undefined;
    }
  };

  const hashes = new Map<string, string>();
  for (const output of outputs) {
    const hash = await attempt('phash', output.assetId, () => perceptualHash(output.png));
    if (hash !== undefined) hashes.set(output.assetId, hash);
    if (spec.mode === 'i2i' && reference) {
      const scores = await attempt('ssim', output.assetId, () => referenceScores(output.png, reference));
      if (scores) {
        const size = { width: scores.width, height: scores.height };
        records.push({ asset_id: output.assetId, metric: 'ssim', value: scores.ssim, details: size });
        const capped = !Number.isFinite(scores.psnr);
        records.push({ asset_id: output.assetId, metric: 'psnr', value: capped ? PSNR_CAP_DB : scores.psnr, details: capped ? { ...size, capped } : size });
      }
    }
    if (clip && spec.prompt.trim() !== '') {
      const score = await attempt('clip_score', output.assetId, () => clip.score(output.png, spec.prompt));
      if (score !== undefined) records.push({ asset_id: output.assetId, metric: 'clip_score', value: score });
    }
  }

  for (const [assetId, hash] of hashes) {
    const others = outputs.filter((o) => o.assetId !== assetId && hashes.has(o.assetId));
    const nearest = others
      .map((o) => ({ nearest_index: o.index, nearest_distance: hammingDistance(hash, hashes.get(o.assetId)!) }))
      .reduce<{ nearest_index: number; nearest_distance: number } | undefined>((best, c) => (best && best.nearest_distance <= c.nearest_distance ? best : c), undefined);
    records.push({ asset_id: assetId, metric: 'phash', value: 0, details: { hash, ...nearest } });
  }
  if (hashes.size >= 2) {
    const diversity = batchDiversity([...hashes.values()]);
    for (const assetId of hashes.keys()) records.push({ asset_id: assetId, metric: 'batch_diversity', value: diversity, details: { batch_size: hashes.size } });
  }
  return records;
}
