import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import type { GeneratedOutput } from '../backends/backend.js';
import type { JobRow, NewAssetRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import { UnrecoverableError } from '../errors/signals.js';
import { errorCatalog, type ErrorCode } from '../errors/catalog.js';
import { seedForImage, type JobSpec } from '../jobs/job-spec.js';
import { probeVideo } from '../media/video/probe-video.js';
import type { Attempt } from '../runner/attempt-pipeline.js';
import { classifyError, type ClassifiedError } from '../runner/classify-error.js';
import type { CallbackAsset, CompleteRequest, CompleteResult } from '../api/schemas/worker-protocol.js';
import { expectedOutputs, pngSize, stagingIndex, stagingKey, type ExpectedOutputs } from './staging.js';
import type { WorkerContext } from './worker-context.js';

/** How long a finished completion's answer is kept for a repeated callback. */
const RESULT_TTL_MS = 15 * 60_000;

/**
 * The completion callback: the staged uploads read back as backend outputs and handed to the
 * attempt pipeline the in-process runner uses (src/runner/attempt-pipeline.ts) — assets and
 * success in one transaction guarded by the attempt, so a late or repeated callback from a
 * lost lease can never give a job a second set of assets.
 */
export function createWorkerCompletion(ctx: WorkerContext) {
  const { deps, clock, leaseMs } = ctx;
  const { findJob, attemptOf, leaseLost, deleteStaging } = ctx;
  const { pipeline } = deps;
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
        await pipeStreams(await deps.storage.get(key), createWriteStream(file));
        const probe = await probeVideo(file);
        outputs.push({ kind: 'video', index, seed, width: probe.width, height: probe.height, fps: probe.fps, frameCount: probe.frame_count, file });
      }
    }
    return outputs;
  }

  function assetView(row: NewAssetRow): CompleteResult['assets'][number] {
    return { id: row.id, index: row.asset_index, type: row.type, url: row.storage_key, thumbnail_url: row.thumbnail_key ?? null, metadata: JSON.parse(row.metadata) as Record<string, unknown> };
  }

  async function failAttempt(attempt: Attempt, failure: ClassifiedError): Promise<CompleteResult> {
    const { job, lease } = attempt;
    const result = await pipeline.fail(attempt, failure);
    if (result.kind === 'lost') throw await leaseLost(job.id, lease.attempt);
    if (result.kind === 'failed') void deleteStaging(job, lease.attempt);
    return {
      job_id: job.id,
      status: result.kind === 'retry' ? 'retrying' : 'failed',
      attempt: lease.attempt,
      assets: [],
      error: result.error,
      ...(result.kind === 'retry' ? { retry_at: new Date(result.retryAt).toISOString() } : {}),
    };
  }

  async function succeed(attempt: Attempt, request: CompleteRequest): Promise<CompleteResult> {
    const { job, spec, lease } = attempt;
    if (job.status !== 'running' || job.attempts !== lease.attempt || !(await pipeline.keepLease(attempt, leaseMs))) throw await leaseLost(job.id, lease.attempt);
    const expected = expectedOutputs(spec);
    const assets = assetIndexes(job, lease.attempt, expected, request.assets ?? []);
    for (const { index } of assets) {
      if (!(await deps.storage.stat(stagingKey(job.id, lease.attempt, index, expected.ext)))) {
        throw new AtelierError('invalid_parameter', `Asset ${index} was never uploaded for this attempt: PUT it to its upload URL first`, { field: 'assets' });
      }
    }
    // Post-processing may take longer than a lease: keep it, as the runner does.
    const release = pipeline.holdLease(attempt, leaseMs, () => undefined);
    const workDir = await mkdtemp(join(tmpdir(), 'atelier-worker-'));
    try {
      let committed;
      try {
        const outputs = await loadStaged(spec, job, lease.attempt, expected, assets, workDir);
        committed = await pipeline.commit(attempt, outputs);
      } catch (error) {
        // Undecodable output is the attempt's failure, as in the runner.
        const failure = classifyError(error);
        return await failAttempt(attempt, { ...failure, message: `Post-processing the worker's output failed: ${failure.message}` });
      }
      if (committed.kind === 'lost') throw await leaseLost(job.id, lease.attempt);
      deps.metrics.renderDuration.observe({ backend: 'remote' }, (clock() - Number(job.started_at ?? job.updated_at)) / 1000);
      void deleteStaging(job, lease.attempt);
      return { job_id: job.id, status: 'succeeded', attempt: lease.attempt, assets: committed.assets.map(assetView), error: null };
    } finally {
      release();
      await rm(workDir, { recursive: true, force: true });
    }
  }

  async function complete(_worker: { readonly name: string }, jobId: string, request: CompleteRequest): Promise<CompleteResult> {
    if (request.job_id !== undefined && request.job_id !== jobId) {
      throw new AtelierError('invalid_parameter', `The callback's job_id '${request.job_id}' is not the job of this URL ('${jobId}')`, { field: 'job_id' });
    }
    const key = `${jobId}:${request.lease_token}`;
    const cached = results.get(key);
    if (cached) return cached.result;
    const running = inFlight.get(key);
    if (running) return running;
    const work = (async () => {
      const attempt = attemptOf(await findJob(jobId), request.lease_token);
      if (request.status === 'failed') {
        const code = request.error_code && request.error_code in errorCatalog ? (request.error_code as ErrorCode) : 'backend_failed';
        const message = request.error_message?.trim() || 'The worker reported a failure without a message';
        const retryable = request.retryable ?? errorCatalog[code].status >= 500;
        return failAttempt(attempt, { code, message: message.slice(0, 2000), retryable });
      }
      return succeed(attempt, request);
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
