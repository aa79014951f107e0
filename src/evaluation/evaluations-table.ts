/**
 * The `evaluations` table (migration 0006) as Kysely sees it: one score of one asset per row.
 * `metric` is one of `EvaluationMetric` but typed as a string, so rows written by a newer
 * version with more metrics still read. Paste `evaluations: EvaluationsTable` into `Database`.
 */
export interface EvaluationsTable {
  id: string;
  /** The scored asset; rows go with it (on delete cascade). */
  asset_id: string;
  job_id: string;
  /** 'ssim' | 'psnr' | 'phash' | 'batch_diversity' | 'clip_score' */
  metric: string;
  value: number;
  /** JSON object (metric-specific, see `EvaluationRecord`), or null. */
  details: string | null;
  /** Epoch ms. */
  created_at: number;
}

/** The part of the schema the evaluations repo needs. */
export interface EvaluationsDatabase {
  evaluations: EvaluationsTable;
}
