import { randomUUID } from 'node:crypto';
import type { GeneratedOutput } from '../backends/backend.js';
import type { JobRow, NewAssetRow } from '../db/schema.js';
import type { JobSpec } from '../jobs/job-spec.js';
import { processGeneratedImage } from '../media/image/process-generated-image.js';
import { storageKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';

export interface StoreOutputsOptions {
  readonly modelLabel: string;
  readonly workspaceTtlMs: number;
  readonly now: () => number;
}

/**
 * Post-processes each output and writes its bytes under the job's deterministic keys.
 * Returns the asset rows to commit; nothing is recorded here. Because keys depend only on
 * (user, job, index), a retried attempt overwrites its predecessor's files instead of
 * adding a second set.
 */
export async function storeOutputs(
  storage: Storage,
  job: Pick<JobRow, 'id' | 'user_id'>,
  spec: JobSpec,
  outputs: readonly GeneratedOutput[],
  options: StoreOutputsOptions,
): Promise<NewAssetRow[]> {
  const rows: NewAssetRow[] = [];
  for (const output of outputs) {
    if (output.kind !== 'image') throw new Error('Video outputs are not stored yet');
    const processed = await processGeneratedImage(output, spec, { modelLabel: options.modelLabel });
    const key = storageKeys.workspaceOriginal(job.user_id, job.id, output.index);
    const thumbKey = storageKeys.workspaceThumbnail(job.user_id, job.id, output.index);
    await storage.put(key, processed.original, { contentType: 'image/png' });
    await storage.put(thumbKey, processed.thumbnail, { contentType: 'image/webp' });
    const now = options.now();
    rows.push({
      id: randomUUID(),
      job_id: job.id,
      user_id: job.user_id,
      asset_index: output.index,
      type: 'image',
      storage_key: key,
      thumbnail_key: thumbKey,
      content_type: 'image/png',
      collection: 'workspace',
      metadata: JSON.stringify(processed.metadata),
      created_at: now,
      expires_at: now + options.workspaceTtlMs,
    });
  }
  return rows;
}

/** Removes what storeOutputs wrote, when the attempt turned out not to own the job. */
export async function removeOutputs(storage: Storage, rows: readonly NewAssetRow[]): Promise<void> {
  for (const row of rows) {
    await storage.delete(row.storage_key);
    if (row.thumbnail_key) await storage.delete(row.thumbnail_key);
  }
}
