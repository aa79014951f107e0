import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { GeneratedImage, GeneratedOutput, GeneratedVideo } from '../backends/backend.js';
import { midFrameThumbnail } from '../media/video/mid-frame-thumbnail.js';
import { probeVideo } from '../media/video/probe-video.js';
import type { JobRow, NewAssetRow, StoredVariant } from '../db/schema.js';
import type { MediaMetrics } from '../media/image/media-metrics.js';
import type { DeliveryPreset } from '../media/image/presets.js';
import type { JobSpec } from '../jobs/job-spec.js';
import { hasNegativePrompt } from '../media/image/a1111-parameters.js';
import { processGeneratedImage } from '../media/image/process-generated-image.js';
import { scanVideoThumbnail } from '../media/safety/scan-output.js';
import type { SafetyScan } from '../media/safety/safety-scanner.js';
import { settingsProvenance } from '../media/settings-provenance.js';
import { assetKeys, storageKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';
import { settleWrites } from '../storage/settle-writes.js';

export interface StoreOutputsOptions {
  readonly modelLabel: string;
  /** Delivery preset of the job's model (SPEC §4). */
  readonly preset: DeliveryPreset;
  readonly mediaMetrics?: MediaMetrics;
  /** The safety scan of the job's model (README "Output safety"); none when its policy is `off`. */
  readonly safety?: SafetyScan;
  readonly workspaceTtlMs: number;
  readonly now: () => number;
}

type Owner = Pick<JobRow, 'id' | 'user_id'>;

/**
 * Post-processes each output and writes its bytes under the job's deterministic keys.
 * Returns the asset rows to commit; nothing is recorded here. Because keys depend only on
 * (user, job, index), a retried attempt overwrites its predecessor's files instead of
 * adding a second set. When any output fails, the files already written are removed before
 * the error propagates: a failed store leaves nothing behind — which is also how an output the
 * safety policy refuses (`output_refused`) leaves no file, and no row, of any output.
 */
export async function storeOutputs(
  storage: Storage,
  job: Owner,
  spec: JobSpec,
  outputs: readonly GeneratedOutput[],
  options: StoreOutputsOptions,
): Promise<NewAssetRow[]> {
  const written: string[] = [];
  const put: Put = async (key, body, putOptions) => {
    written.push(key);
    await storage.put(key, body, putOptions);
  };
  let stored: StoredFiles[];
  try {
    stored = await mapLimited(outputs, OUTPUTS_AT_ONCE, (output) => (output.kind === 'image' ? storeImage(put, job, spec, output, options) : storeVideo(put, job, spec, output, options.safety)));
  } catch (error) {
    await Promise.allSettled(written.map((key) => storage.delete(key)));
    throw error;
  }
  return outputs.map((output, i) => {
    const now = options.now();
    return {
      id: randomUUID(),
      job_id: job.id,
      user_id: job.user_id,
      asset_index: output.index,
      type: output.kind,
      collection: 'workspace',
      created_at: now,
      expires_at: now + options.workspaceTtlMs,
      ...stored[i]!,
    };
  });
}

/**
 * A batch's outputs are post-processed this many at a time: each image's encodes are
 * single-threaded, so one at a time left a core idle for a batch (about half its store time
 * at 1024²), while more would only add decoded images held in memory at once.
 */
const OUTPUTS_AT_ONCE = 2;

/**
 * `work` over `items`, at most `limit` at once, results in the items' order. After a failure
 * nothing new starts; the work already running is waited for (so every file it writes is
 * known to the caller's clean-up), then the first error is thrown.
 */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
  return results;
}

type Put = (key: string, body: Parameters<Storage['put']>[1], options?: Parameters<Storage['put']>[2]) => Promise<void>;

type StoredFiles = Pick<NewAssetRow, 'storage_key' | 'thumbnail_key' | 'content_type' | 'metadata' | 'variants'>;

async function storeImage(put: Put, job: Owner, spec: JobSpec, output: GeneratedImage, options: StoreOutputsOptions): Promise<StoredFiles> {
  const processed = await processGeneratedImage(output, spec, {
    modelLabel: options.modelLabel,
    preset: options.preset,
    ...(options.mediaMetrics ? { measure: options.mediaMetrics.measure } : {}),
    ...(options.safety ? { safety: options.safety } : {}),
  });
  const key = storageKeys.workspaceOriginal(job.user_id, job.id, output.index);
  const thumbKey = storageKeys.workspaceThumbnail(job.user_id, job.id, output.index);
  const variants: StoredVariant[] = processed.variants.map((v) => ({
    name: v.name,
    preset: options.preset.name,
    format: v.format,
    width: v.width,
    height: v.height,
    bytes: v.bytes,
    key: storageKeys.variant(key, options.preset.name, v.name, v.format),
  }));
  await settleWrites([
    put(key, processed.original, { contentType: 'image/png' }),
    put(thumbKey, processed.thumbnail, { contentType: 'image/webp' }),
    ...variants.map((variant, i) => put(variant.key, processed.variants[i]!.data)),
  ]);
  return { storage_key: key, thumbnail_key: thumbKey, content_type: 'image/png', metadata: JSON.stringify(processed.metadata), variants: JSON.stringify(variants) };
}

/** Videos stream from the backend's file to storage; the thumbnail is the middle frame, scanned before anything is written. */
async function storeVideo(put: Put, job: Owner, spec: JobSpec, output: GeneratedVideo, safetyScan: SafetyScan | undefined): Promise<StoredFiles> {
  const probe = await probeVideo(output.file);
  const frame = output.thumbnail ?? (await midFrameThumbnail(output.file, probe));
  const scanned = safetyScan && (await scanVideoThumbnail(safetyScan, output.index, frame));
  const thumbnail = scanned?.thumbnail ?? frame;
  const key = storageKeys.workspaceOriginal(job.user_id, job.id, output.index, 'mp4');
  const thumbKey = storageKeys.workspaceThumbnail(job.user_id, job.id, output.index);
  await settleWrites([put(key, createReadStream(output.file), { contentType: 'video/mp4' }), put(thumbKey, thumbnail.data, { contentType: 'image/webp' })]);
  const metadata = {
    width: probe.width,
    height: probe.height,
    format: 'mp4',
    steps: spec.steps,
    guidance_scale: spec.cfgScale,
    seed: output.seed,
    file_size_bytes: probe.file_size_bytes,
    asset_index: output.index,
    negative_prompt_used: hasNegativePrompt(spec),
    duration_seconds: probe.duration_seconds,
    fps: probe.fps,
    frame_count: probe.frame_count,
    model: spec.model,
    ...settingsProvenance(spec),
    ...(scanned ? { safety: scanned.record } : {}),
  };
  return { storage_key: key, thumbnail_key: thumbKey, content_type: 'video/mp4', metadata: JSON.stringify(metadata) };
}

/** Removes what storeOutputs wrote, when the attempt turned out not to own the job. */
export async function removeOutputs(storage: Storage, rows: readonly NewAssetRow[]): Promise<void> {
  for (const row of rows) for (const key of assetKeys(row)) await storage.delete(key);
}

