import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { GeneratedOutput } from '../backends/backend.js';
import type { JobRow, NewAssetRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import { UnrecoverableError } from '../errors/signals.js';
import { errorCatalog, type ErrorCode } from '../errors/catalog.js';
import { seedForImage, type JobSpec } from '../jobs/job-spec.js';
import { probeVideo } from '../media/video/probe-video.js';
import type { Lease } from '../queue/queue.js';
import { classifyError } from '../runner/classify-error.js';
import { recordFailedAttempt } from '../runner/record-failure.js';
import { storeOptionsFor } from '../runner/store-options.js';
import { removeOutputs, storeOutputs } from '../runner/store-outputs.js';
import type { CallbackAsset, CompleteRequest, CompleteResult } from './protocol-types.js';
import { expectedOutputs, pngSize, stagingIndex, stagingKey, type ExpectedOutputs } from './staging.js';
import type { WorkerContext } from './worker-context.js';
import type { WorkerTokenRow } from './worker-tokens-repo.js';

/** How long a finished completion's answer is kept for a repeated callback. */
const RESULT_TTL_MS = 15 * 60_000;

/**
 * The completion callback: the staged uploads post-processed and committed exactly like an
 * in-process run — assets and success in one transaction guarded by the attempt, so a late or
 * repeated callback from a lost lease can never give a job a second set of assets.
 */
export function createWorkerCompletion(ctx: WorkerContext) {
  const { deps, options, clock, leaseMs } = ctx;
  const { findJob, leaseOf, leaseLost, observeFinished, deleteStaging } = ctx;
  /** Answers of finished completions by lease token, for a worker that repeats its callback. */
  const results = new Map<string, { result: CompleteResult; at: number }>();
  const inFlight = new Map<string, Promise<CompleteResult>>();

  function assetIndexes(job: JobRow, attempt: number, expected: ExpectedOutputs, assets: readonly CallbackAsset[]): { index: number; asset: CallbackAsset }[] {
    if (assets.length !== expected.count) {
      throw new AtelierError('invalid_parameter', `Expected ${expected.count} asset${expected.count > 1 ? 's' : ''} (${expected.type}) in the callback but received ${assets.length}`, { field: 'assets' });
    }
    const seen = new Map<number, CallbackAsset>();
    for (const [i, asset] of assets.entries()) {
      if (asset.type !== expected.type) {
        throw new AtelierError('invalid_parameter', `Expected assets[${i}].type '${expected.type}' but received '${asset.type}'`, { field: `assets[${i}].type` });
      }
      const index = stagingIndex(asset.url, job.id, attempt, expected.ext) ?? (/^\d{1,3}$/.test(asset.url) ? Number(asset.url) : asset.index);
      if (index === undefined || !(index >= 0 && index < expected.count) || seen.has(index)) {
        throw new AtelierError(
          'invalid_parameter',
          `Expected assets[${i}].url to be the key an upload of this attempt returned (${stagingKey(job.id, attempt, 0, expected.ext)} …) but received '${asset.url.slice(0, 120)}'`,
          { field: `assets[${i}].url` },
        );
      }
      seen.set(index, asset);
    }
    return [...seen.entries()].sort(([a], [b]) => a - b).map(([index, asset]) => ({ index, asset }));
  }

  /** Reads the staged uploads back as backend outputs, so storeOutputs treats them like the runner's. */
  async function loadStaged(spec: JobSpec, job: JobRow, attempt: number, expected: ExpectedOutputs, assets: { index: number; asset: CallbackAsset }[], workDir: string): Promise<GeneratedOutput[]> {
    const outputs: GeneratedOutput[] = [];
    for (const { index, asset } of assets) {
      const key = stagingKey(job.id, attempt, index, expected.ext);
      const reported = (asset.metadata as { seed?: unknown } | null | undefined)?.seed;
      const seed = typeof reported === 'number' && Number.isSafeInteger(reported) && reported >= 0 ? reported : seedForImage(spec, index);
      if (expected.type === 'image') {
        const chunks: Buffer[] = [];
        for await (const chunk of await deps.storage.get(key)) chunks.push(chunk as Buffer);
        const data = Buffer.concat(chunks);
        const size = pngSize(data);
        if (!size) throw new UnrecoverableError(`Asset ${index} is not a PNG image`, 'invalid_image');
        outputs.push({ kind: 'image', index, seed, width: size.width, height: size.height, data });
      } else {
        const file = join(workDir, `${index}.mp4`);
        await pipeline(await deps.storage.get(key), createWriteStream(file));
        const probe = await probeVideo(file);
        outputs.push({ kind: 'video', index, seed, width: probe.width, height: probe.height, fps: probe.fps, frameCount: probe.frame_count, file });
      }
    }
    return outputs;
  }

  function assetView(row: NewAssetRow): CompleteResult['assets'][number] {
    return { id: row.id, index: row.asset_index, type: row.type, url: row.storage_key, thumbnail_url: row.thumbnail_key ?? null, metadata: JSON.parse(row.metadata) as Record<string, unknown> };
  }

  async function failAttempt(job: JobRow, lease: Lease, error: { code: string; message: string }, retryable: boolean): Promise<CompleteResult> {
    const outcome = await deps.queue.fail(lease, error, retryable);
    if (!outcome) throw await leaseLost(job.id, lease.attempt);
    deps.logger.warn({ jobId: job.id, attempt: lease.attempt, code: error.code, outcome: outcome.kind }, 'remote attempt failed');
    if (await recordFailedAttempt(deps, job, outcome, error, clock)) observeFinished(job, 'failed');
    if (outcome.kind === 'failed') void deleteStaging(job, lease.attempt);
    return {
      job_id: job.id,
      status: outcome.kind === 'retry' ? 'retrying' : 'failed',
      attempt: lease.attempt,
      assets: [],
      error,
      ...(outcome.kind === 'retry' ? { retry_at: new Date(outcome.retryAt).toISOString() } : {}),
    };
  }

  async function succeed(job: JobRow, lease: Lease, request: CompleteRequest): Promise<CompleteResult> {
    if (!(await deps.queue.heartbeat(lease, leaseMs))) throw await leaseLost(job.id, lease.attempt);
    if (job.status !== 'running' || job.attempts !== lease.attempt) throw await leaseLost(job.id, lease.attempt);
    const spec = JSON.parse(job.spec) as JobSpec;
    const expected = expectedOutputs(spec);
    const assets = assetIndexes(job, lease.attempt, expected, request.assets ?? []);
    for (const { index } of assets) {
      if (!(await deps.storage.stat(stagingKey(job.id, lease.attempt, index, expected.ext)))) {
        throw new AtelierError('invalid_parameter', `Asset ${index} was never uploaded for this attempt: PUT it to its upload URL first`, { field: 'assets' });
      }
    }

    // Post-processing may take longer than a lease: keep it, as the runner does.
    const keep = setInterval(() => {
      void deps.queue
        .heartbeat(lease, leaseMs)
        .then((held) => (held ? deps.jobs.extendLease(job.id, lease.attempt, clock() + leaseMs) : undefined))
        .catch((error: unknown) => deps.logger.warn({ jobId: job.id, err: error }, 'heartbeat during post-processing failed'));
    }, Math.max(50, leaseMs / 3));
    const workDir = await mkdtemp(join(tmpdir(), 'atelier-worker-'));
    try {
      let written: NewAssetRow[];
      try {
        const outputs = await loadStaged(spec, job, lease.attempt, expected, assets, workDir);
        written = await storeOutputs(deps.storage, job, spec, outputs, storeOptionsFor(deps, job, { workspaceTtlMs: options.workspaceTtlMs, now: clock }));
      } catch (error) {
        // Undecodable output is the attempt's failure, as in the runner.
        const failure = classifyError(error);
        return await failAttempt(job, lease, { code: failure.code, message: `Post-processing the worker's output failed: ${failure.message}` }, failure.retryable);
      }
      if (!(await deps.jobs.succeed(job.id, lease.attempt, written, clock()))) {
        const current = await deps.jobs.findById(job.id);
        // Only a canceled job's files are ours to remove; after a lost lease the keys belong
        // to the attempt that now holds the job.
        if (current?.status === 'canceled') await removeOutputs(deps.storage, written);
        throw await leaseLost(job.id, lease.attempt);
      }
      await deps.events.emit(job, 'succeeded', { assets: written.map((a) => ({ id: a.id, index: a.asset_index })) });
      observeFinished(job, 'succeeded');
      deps.metrics.renderDuration.observe({ backend: 'remote' }, (clock() - Number(job.started_at ?? job.updated_at)) / 1000);
      await deps.onSucceeded?.(job, spec, written).catch((error: unknown) => deps.logger.warn({ jobId: job.id, err: error }, 'after-success hook failed'));
      await deps.queue.complete(lease);
      void deleteStaging(job, lease.attempt);
      return { job_id: job.id, status: 'succeeded', attempt: lease.attempt, assets: written.map(assetView), error: null };
    } finally {
      clearInterval(keep);
      await rm(workDir, { recursive: true, force: true });
    }
  }

  async function complete(_worker: WorkerTokenRow, jobId: string, request: CompleteRequest): Promise<CompleteResult> {
    if (request.job_id !== undefined && request.job_id !== jobId) {
      throw new AtelierError('invalid_parameter', `The callback's job_id '${request.job_id}' is not the job of this URL ('${jobId}')`, { field: 'job_id' });
    }
    const key = `${jobId}:${request.lease_token}`;
    const cached = results.get(key);
    if (cached) return cached.result;
    const running = inFlight.get(key);
    if (running) return running;
    const work = (async () => {
      const job = await findJob(jobId);
      const lease = await leaseOf(job, request.lease_token);
      if (request.status === 'failed') {
        const code = request.error_code && request.error_code in errorCatalog ? (request.error_code as ErrorCode) : 'backend_failed';
        const message = request.error_message?.trim() || 'The worker reported a failure without a message';
        const retryable = request.retryable ?? errorCatalog[code].status >= 500;
        return failAttempt(job, lease, { code, message: message.slice(0, 2000) }, retryable);
      }
      return succeed(job, lease, request);
    })();
    inFlight.set(key, work);
    try {
      const result = await work;
      const now = clock();
      for (const [k, v] of results) if (now - v.at > RESULT_TTL_MS) results.delete(k);
      results.set(key, { result, at: now });
      return result;
    } finally {
      inFlight.delete(key);
    }
  }

  return {
    complete,
    /** Waits for the completions being processed (at shutdown). */
    async settle(): Promise<void> {
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
