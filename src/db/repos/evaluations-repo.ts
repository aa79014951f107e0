import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { EvaluationRecord } from '../../evaluation/evaluate-job.js';
import type { Database } from '../schema.js';

/** A stored score, with `details` parsed back from JSON. */
export interface StoredEvaluation {
  readonly id: string;
  readonly asset_id: string;
  readonly job_id: string;
  readonly metric: string;
  readonly value: number;
  readonly details: Record<string, unknown> | null;
  readonly created_at: number;
}

/**
 * Evaluation records (rows only).
 *
 * @example
 * const evaluations = createEvaluationsRepo(db)
 * await evaluations.insertMany(job.id, records, Date.now())
 * const byAsset = await evaluations.listByAssetIds(assets.map((a) => a.id))
 */
export interface EvaluationsRepo {
  /** Inserts the records in one statement; an asset id that does not exist is a foreign-key error. */
  insertMany(jobId: string, records: readonly EvaluationRecord[], createdAt: number): Promise<void>;
  /** Every score of the given assets, ordered by asset, metric and time (newest last). */
  listByAssetIds(assetIds: readonly string[]): Promise<StoredEvaluation[]>;
}

/** The EvaluationsRepo on Kysely (SQLite or PostgreSQL). */
export function createEvaluationsRepo(db: Kysely<Database>): EvaluationsRepo {
  return {
    async insertMany(jobId: string, records: readonly EvaluationRecord[], createdAt: number): Promise<void> {
      if (records.length === 0) return;
      const rows = records.map((r) => ({
        id: randomUUID(),
        asset_id: r.asset_id,
        job_id: jobId,
        metric: r.metric,
        value: r.value,
        details: r.details === undefined ? null : JSON.stringify(r.details),
        created_at: createdAt,
      }));
      await db.insertInto('evaluations').values(rows).execute();
    },

    async listByAssetIds(assetIds: readonly string[]): Promise<StoredEvaluation[]> {
      if (assetIds.length === 0) return [];
      const rows = await db
        .selectFrom('evaluations')
        .selectAll()
        .where('asset_id', 'in', [...assetIds])
        .orderBy('asset_id')
        .orderBy('metric')
        .orderBy('created_at')
        .execute();
      return rows.map((row) => ({
        ...row,
        value: Number(row.value),
        created_at: Number(row.created_at),
        details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
      }));
    },
  };
}

