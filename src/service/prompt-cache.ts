import { storageKeys } from '../storage/keys.js';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AssetsRepo } from '../db/repos/assets-repo.js';
import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { PromptCacheRepo } from '../db/repos/prompt-cache-repo.js';
import type { AssetRow, JobRow, NewAssetRow } from '../db/schema.js';
import { promptCacheKeys } from '../jobs/prompt-cache-key.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Storage } from '../storage/storage.js';
import { servableUnder, type SafetyPolicy, type SafetyRecord } from '../media/safety/safety-policy.js';
import { copyAssetFiles } from './copy-asset-files.js';

export interface PromptCacheOptions {
  readonly ttlMs: number;
  /** `user`: a user's requests hit only their own runs (default); `global`: anyone's. */
  readonly scope: 'user' | 'global';
  readonly clock?: () => number;
  /**
   * The output safety policy in force for a model now (README "Output safety"). A hit is served
   * only when its assets are what a fresh run would deliver under it ({@link servableUnder});
   * without it, any hit is.
   */
  readonly safetyPolicyFor?: (model: string) => SafetyPolicy;
}

export interface CacheHit {
  readonly entryId: string;
  readonly source: JobRow;
  readonly assets: readonly AssetRow[];
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * The content-addressed prompt cache (seed 002). A finished run is recorded under its keys;
 * an identical later request is served by copying that run's assets to the new job — its own
 * records and files, so deleting either never breaks the other — with no render at all.
 */
export function createPromptCache(
  deps: { repo: PromptCacheRepo; jobs: JobsRepo; assets: AssetsRepo; storage: Storage; registry: Registry },
  options: PromptCacheOptions,
) {
  const clock = options.clock ?? Date.now;
  const lookups = new Counter({ name: 'atelier_prompt_cache_lookups_total', help: 'Prompt cache lookups by result', labelNames: ['result'] as const, registers: [deps.registry] });
  lookups.inc({ result: 'hit' }, 0);
  lookups.inc({ result: 'miss' }, 0);
  let hits = 0;
  let misses = 0;
  new Gauge({
    name: 'atelier_prompt_cache_hit_ratio',
    help: 'Prompt cache hits / lookups since start',
    registers: [deps.registry],
    collect() {
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
    },
  });

  /**
   * The newest entry for the key whose run still has every asset, each deliverable under the
   * safety policy in force now, or undefined.
   */
  async function lookup(userId: string, key: { hash: string; seedAgnostic: boolean }): Promise<CacheHit | undefined> {
    const entries = await deps.repo.find(key.hash, key.seedAgnostic, clock(), options.scope === 'user' ? userId : undefined);
    for (const entry of entries) {
      const source = await deps.jobs.findById(entry.job_id);
      const assets = source ? (await deps.assets.listForJob(source.id)).filter((a) => a.collection === 'workspace') : [];
      if (source?.status === 'succeeded' && assets.length > 0 && assets.length === expectedOutputs(source)) {
        // Made under a laxer policy than today's: not served, but kept, as the policy may change back.
        if (!safeToServe(source, assets)) continue;
        return { entryId: entry.id, source, assets, createdAt: Number(entry.created_at), expiresAt: Number(entry.expires_at) };
      }
      // The run's files were deleted or swept: the entry can never serve again.
      await deps.repo.delete(entry.id);
    }
    return undefined;
  }

  function safeToServe(source: JobRow, assets: readonly AssetRow[]): boolean {
    if (!options.safetyPolicyFor) return true;
    const policy = options.safetyPolicyFor(source.model);
    return assets.every((asset) => servableUnder(policy, (JSON.parse(asset.metadata) as { safety?: SafetyRecord }).safety));
  }

  return {
    /** Looks a key up and counts the outcome in the hit-ratio metrics. */
    async lookup(userId: string, key: { hash: string; seedAgnostic: boolean }, count = true): Promise<CacheHit | undefined> {
      const hit = await lookup(userId, key);
      if (count) {
        lookups.inc({ result: hit ? 'hit' : 'miss' });
        if (hit) hits++;
        else misses++;
      }
      return hit;
    },

    /** Records a freshly rendered run (never a cached copy) under its keys. */
    async record(job: JobRow, spec: JobSpec): Promise<void> {
      if (job.cached) return;
      const keys = promptCacheKeys(spec);
      const now = clock();
      await deps.repo.insert({ id: randomUUID(), user_id: job.user_id, job_id: job.id, seed_hash: keys.seedHash, any_seed_hash: keys.anySeedHash, created_at: now, expires_at: now + options.ttlMs });
    },

    /** Copies a hit's files under the new job's keys and returns its asset rows to commit. */
    async materialize(hit: CacheHit, job: Pick<JobRow, 'id' | 'user_id'>, workspaceTtlMs: number, written: string[] = []): Promise<NewAssetRow[]> {
      const from = storageKeys.workspaceJobPrefix(hit.source.user_id, hit.source.id);
      const to = storageKeys.workspaceJobPrefix(job.user_id, job.id);
      const move = (key: string) => (key.startsWith(from) ? to + key.slice(from.length) : key);
      const now = clock();
      const rows: NewAssetRow[] = [];
      for (const asset of hit.assets) {
        rows.push({
          id: randomUUID(),
          job_id: job.id,
          user_id: job.user_id,
          asset_index: asset.asset_index,
          type: asset.type,
          content_type: asset.content_type,
          collection: 'workspace',
          metadata: asset.metadata,
          created_at: now,
          expires_at: now + workspaceTtlMs,
          ...(await copyAssetFiles(deps.storage, asset, move, written)),
        });
      }
      await deps.repo.countHit(hit.entryId);
      return rows;
    },
  };
}

export type PromptCache = ReturnType<typeof createPromptCache>;

function expectedOutputs(job: JobRow): number {
  return job.mode === 't2v' || job.mode === 'i2v' || job.mode === 'ti2v' ? 1 : job.num_images;
}
