import type { AssetsRepo } from '../db/repos/assets-repo.js';
import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { UploadsRepo } from '../db/repos/uploads-repo.js';
import { specInputImages } from '../jobs/conditioning.js';
import type { JobSpec } from '../jobs/job-spec.js';
import { isTerminal } from '../jobs/job-status.js';
import { assetKeys, JOB_INPUTS, LIBRARY, ownerOfKey, UPLOADS, WORKER_UPLOADS, WORKSPACE, type KeyOwner } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';

export interface OrphanSweepDeps {
  readonly jobs: Pick<JobsRepo, 'findById'>;
  readonly assets: Pick<AssetsRepo, 'listForJob'>;
  readonly uploads: Pick<UploadsRepo, 'findById'>;
  readonly storage: Storage;
}

export interface OrphanSweepOptions {
  readonly now: number;
  /** Only objects older than this are candidates: younger ones may belong to a write in progress. */
  readonly graceMs: number;
  readonly dryRun?: boolean;
  /** Called for a key whose deletion failed; the next sweep tries again. */
  readonly onError?: (key: string, error: unknown) => void;
}

const PREFIXES = [WORKSPACE, LIBRARY, JOB_INPUTS, WORKER_UPLOADS, UPLOADS];

/**
 * Deletes bytes that no row owns, older than the grace period: what a crash between a write
 * and its record left behind (a submission's input copies before its row, an attempt's outputs
 * before its commit). Every write path removes its own bytes when it fails; this is for the
 * process that died before it could. A key is owned when
 * - workspace / library: an asset row of its job names it (original, thumbnail, variant);
 * - job input: its job exists and its spec names it;
 * - any key of a job that is still queued or running (its attempt may be writing);
 * - upload: its upload row exists and names it (or has not received its bytes yet).
 * Keys outside the layout of storage/keys.ts are never touched. Returns the keys deleted
 * (or, in a dry run, deletable).
 *
 * @example const { keys } = await sweepOrphans(deps, { now: Date.now(), graceMs: 86_400_000 })
 */
export async function sweepOrphans(deps: OrphanSweepDeps, options: OrphanSweepOptions): Promise<{ keys: string[]; failed: number }> {
  const ownedByJob = new Map<string, { active: boolean; keys: Set<string> }>();
  const deleted: string[] = [];
  let failed = 0;

  async function jobOwnership(jobId: string) {
    let found = ownedByJob.get(jobId);
    if (!found) {
      const job = await deps.jobs.findById(jobId);
      const keys = new Set<string>();
      if (job) {
        for (const asset of await deps.assets.listForJob(jobId)) for (const key of assetKeys(asset)) keys.add(key);
        for (const image of specInputImages(JSON.parse(job.spec) as Partial<JobSpec>)) keys.add(image.key);
      }
      found = { active: job !== undefined && !isTerminal(job.status), keys };
      ownedByJob.set(jobId, found);
    }
    return found;
  }

  async function isOwned(owner: KeyOwner, key: string): Promise<boolean> {
    if (owner.kind === 'upload') {
      const upload = await deps.uploads.findById(owner.uploadId);
      return upload !== undefined && (upload.storage_key === key || upload.storage_key === null);
    }
    const job = await jobOwnership(owner.jobId);
    return job.active || job.keys.has(key);
  }

  for (const prefix of PREFIXES) {
    for await (const object of deps.storage.list(`${prefix}/`)) {
      if (options.now - object.modifiedAt.getTime() < options.graceMs) continue;
      const owner = ownerOfKey(object.key);
      if (!owner || (await isOwned(owner, object.key))) continue;
      if (!options.dryRun) {
        try {
          await deps.storage.delete(object.key);
        } catch (error) {
          failed += 1;
          options.onError?.(object.key, error);
          continue;
        }
      }
      deleted.push(object.key);
    }
  }
  return { keys: deleted, failed };
}
