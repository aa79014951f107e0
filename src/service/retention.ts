import type { AssetsRepo } from '../db/repos/assets-repo.js';
import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { UploadsRepo } from '../db/repos/uploads-repo.js';
import type { JobRow } from '../db/schema.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { assetKeys, storageKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';
import { finishAssetDeletion } from './delete-asset.js';
import { specInputImages } from '../jobs/conditioning.js';
import { sweepOrphans } from './orphan-sweep.js';

const DAY_MS = 24 * 3600_000;

/** What a sweep works on. The CLI passes no metrics (a one-shot process exports none). */
export interface RetentionDeps {
  readonly assets: AssetsRepo;
  readonly uploads: UploadsRepo;
  readonly jobs: JobsRepo;
  readonly storage: Storage;
  /** Workspace items, uploads and finished jobs' inputs older than this are deleted (seed 003: 30). */
  readonly retentionDays: number;
  /** Bytes no row owns are deleted once this old (default a day): what a crash left. */
  readonly orphanGraceMs?: number;
  readonly metrics?: Pick<Metrics, 'retentionDeleted'>;
  readonly logger?: Logger;
}

/** When a sweep runs, and whether it only reports. */
export interface SweepOptions {
  /** The sweep's clock: expiry and age are measured against it. */
  readonly now: number;
  /** Report what would be deleted and change nothing. */
  readonly dryRun?: boolean;
}

/** The `kind` label of `atelier_retention_deleted_total`. */
export type SweptKind = 'asset' | 'upload' | 'job_input' | 'orphan';

/** One deleted (or, in a dry run, deletable) thing: an asset, an upload, or one job's input copies. */
export interface SweptItem {
  readonly kind: SweptKind;
  /** Asset id, upload id, or — for job inputs — the job id; for an orphan, its key. */
  readonly id: string;
  readonly keys: readonly string[];
}

/** What a sweep deleted (or, in a dry run, would delete). */
export interface RetentionResult {
  /** Asset rows deleted with all their files. */
  readonly assets: number;
  /** Upload rows deleted with their file. */
  readonly uploads: number;
  /** Job-input copies deleted (one per reference/start/end image). */
  readonly jobInputs: number;
  /** Files no row owned (left by a crash between a write and its record). */
  readonly orphans: number;
  /** Storage keys deleted, all kinds together. */
  readonly files: number;
  /** Items whose deletion failed; they stay marked and the next sweep retries them. */
  readonly failed: number;
  readonly items: readonly SweptItem[];
}

/**
 * Retention cleanup (seed 003, SPEC §4). Deletes
 * - workspace assets that expired (`expires_at`, from `media.workspaceTtlHours`), and any
 *   workspace asset older than the retention period even without an expiry;
 * - uploads older than the retention period;
 * - the held input copies of terminal jobs that finished more than the retention period ago.
 * Library items are never selected. Assets and uploads are marked first (hidden from then
 * on), then their files go, then their rows; rows marked by an earlier sweep or delete that
 * crashed are finished too. One item failing does not stop the others.
 *
 * @example const { assets, files } = await sweepRetention(deps, { now: Date.now() })
 */
export async function sweepRetention(deps: RetentionDeps, options: SweepOptions): Promise<RetentionResult> {
  const { now, dryRun = false } = options;
  const createdBefore = now - deps.retentionDays * DAY_MS;
  const counts = { assets: 0, uploads: 0, jobInputs: 0, orphans: 0, files: 0, failed: 0 };
  const items: SweptItem[] = [];

  async function take(item: SweptItem, remove: () => Promise<unknown>): Promise<void> {
    if (!dryRun) {
      try {
        await remove();
      } catch (error) {
        counts.failed += 1;
        deps.logger?.warn({ kind: item.kind, id: item.id, err: error }, 'retention: deletion failed; the next sweep retries it');
        return;
      }
      deps.metrics?.retentionDeleted.inc({ kind: item.kind }, item.kind === 'job_input' ? item.keys.length : 1);
    }
    items.push(item);
    counts.files += item.keys.length;
    if (item.kind === 'asset') counts.assets += 1;
    else if (item.kind === 'upload') counts.uploads += 1;
    else if (item.kind === 'orphan') counts.orphans += 1;
    else counts.jobInputs += item.keys.length;
  }

  const cutoff = { now, createdBefore };
  // Marking is one statement, so a crash leaves all or none of this sweep's picks hidden.
  if (!dryRun) await deps.assets.markExpired(cutoff, now);
  const assets = dryRun ? [...(await deps.assets.listDeleting()), ...(await deps.assets.listExpired(cutoff))] : await deps.assets.listDeleting();
  for (const row of assets) {
    await take({ kind: 'asset', id: row.id, keys: assetKeys(row) }, () => finishAssetDeletion(deps.assets, deps.storage, row));
  }

  if (!dryRun) await deps.uploads.markOlderThan(createdBefore, now);
  const uploads = dryRun ? [...(await deps.uploads.listDeleting()), ...(await deps.uploads.listOlderThan(createdBefore))] : await deps.uploads.listDeleting();
  for (const row of uploads) {
    const keys = row.storage_key ? [row.storage_key] : [];
    await take({ kind: 'upload', id: row.id, keys }, async () => {
      for (const key of keys) await deps.storage.delete(key);
      await deps.uploads.delete(row.id);
    });
  }

  // A finished job's row stays (it is the run's record); only its input copies go. Files
  // first, then the record that they are gone: a crash in between repeats harmless deletes.
  for (const job of await deps.jobs.listWithInputsToSweep(createdBefore)) {
    const keys = heldInputKeys(job);
    const remove = async () => {
      for (const key of keys) await deps.storage.delete(key);
      await deps.jobs.markInputsSwept(job.id, now);
    };
    if (keys.length > 0) await take({ kind: 'job_input', id: job.id, keys }, remove);
    // The pre-filter matched text that is not an input key (e.g. in the prompt): record it
    // as done so it is not re-read on every sweep.
    else if (!dryRun) await remove();
  }

  // Last, so whatever the steps above deleted is not listed again.
  const orphans = await sweepOrphans(deps, {
    now,
    graceMs: deps.orphanGraceMs ?? DAY_MS,
    dryRun,
    onError: (key, error) => {
      counts.failed += 1;
      deps.logger?.warn({ kind: 'orphan', key, err: error }, 'retention: deletion failed; the next sweep retries it');
    },
  });
  for (const key of orphans.keys) {
    if (!dryRun) deps.metrics?.retentionDeleted.inc({ kind: 'orphan' });
    items.push({ kind: 'orphan', id: key, keys: [key] });
    counts.orphans += 1;
    counts.files += 1;
  }

  return { ...counts, items };
}

/**
 * The job's own input copies. Only keys under the job's `job-inputs/{userId}/{jobId}/`
 * prefix count: anything else in a spec (an upload's or an asset's key) belongs to
 * something else and must survive.
 */
function heldInputKeys(job: Pick<JobRow, 'id' | 'user_id' | 'spec'>): string[] {
  const spec = JSON.parse(job.spec) as Partial<JobSpec>;
  const prefix = storageKeys.jobInputsPrefix(job.user_id, job.id);
  return specInputImages(spec).flatMap((image) => (image.key.startsWith(prefix) ? [image.key] : []));
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "2 assets, 1 upload, 3 job inputs (9 files)": the summary the CLI prints and the server logs. */
export function describeSweep(result: Pick<RetentionResult, 'assets' | 'uploads' | 'jobInputs' | 'files'> & { readonly orphans?: number }): string {
  const orphans = result.orphans ? `, ${plural(result.orphans, 'orphaned file', 'orphaned files')}` : '';
  return `${plural(result.assets, 'asset', 'assets')}, ${plural(result.uploads, 'upload', 'uploads')}, ${plural(result.jobInputs, 'job input', 'job inputs')}${orphans} (${plural(result.files, 'file', 'files')})`;
}
