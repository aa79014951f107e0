import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GeneratedOutput } from '../backends/backend.js';
import type { NewAssetRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import { errorCatalog, type ErrorCode } from '../errors/catalog.js';
import type { Attempt } from '../runner/attempt-pipeline.js';
import { classifyError, type ClassifiedError } from '../runner/classify-error.js';
import type { CompleteRequest, CompleteResult, MultipartResult } from '../api/schemas/worker-protocol.js';
import { expectedOutputs } from './staging.js';
import { loadStaged, requireStaged, stagedAssets } from './staged-outputs.js';
import { multipartMetadata, receiveParts, type FilePart } from './streamed-outputs.js';
import type { WorkerContext } from './worker-context.js';
import { assetSeed, imageOutput, videoOutput } from './worker-outputs.js';

/** How long a finished completion's answer is kept for a repeated callback. */
const RESULT_TTL_MS = 15 * 60_000;

/** What both forms of the callback share: whose lease, and success or failure. */
type Callback = Pick<CompleteRequest, 'job_id' | 'lease_token' | 'status' | 'error_message' | 'error_code' | 'retryable'>;

/**
 * The completion callback, in two forms: JSON naming outputs staged by earlier uploads, read
 * back from storage (or, for images this node received, from memory: held-uploads.ts); or multipart/form-data carrying the outputs themselves, checked as they
 * stream and never staged (one request instead of 1 + one per asset, and no storage round
 * trips). Both hand the outputs to the attempt pipeline the in-process runner uses
 * (src/runner/attempt-pipeline.ts) — assets and success in one transaction guarded by the
 * attempt, so a late or repeated callback from a lost lease can never give a job a second set
 * of assets — and share the lease checks, the failure path and the answer kept for a repeat.
 */
export function createWorkerCompletion(ctx: WorkerContext) {
  const { deps, clock, leaseMs, maxUploadBytes } = ctx;
  const { attemptFor, held, heldUploads, leaseLost, deleteStaging } = ctx;
  const { pipeline } = deps;
  /** Answers of finished completions by lease token, for a worker that repeats its callback. */
  const results = new Map<string, { result: CompleteResult; at: number }>();
  const inFlight = new Map<string, Promise<CompleteResult>>();

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

  /**
   * A success is taken only from the attempt holding the job: its row says so (as this request
   * read it, or as the claim on this node left it) and the queue renews its lease.
   */
  async function requireLease(attempt: Attempt): Promise<void> {
    const { job, lease } = attempt;
    if (job.status !== 'running' || job.attempts !== lease.attempt) throw await leaseLost(job.id, lease.attempt, job);
    if (!(await pipeline.confirmLease(attempt, leaseMs))) throw await leaseLost(job.id, lease.attempt);
  }

  /**
   * Runs `work` while the lease is kept, as the runner does: receiving and post-processing may
   * take longer than a lease. `workDir` makes a directory for videos on first use only.
   */
  async function withLeaseHeld<T>(attempt: Attempt, work: (workDir: () => Promise<string>) => Promise<T>): Promise<T> {
    const release = pipeline.holdLease(attempt, leaseMs, () => undefined);
    let dir: Promise<string> | undefined;
    try {
      return await work(() => (dir ??= mkdtemp(join(tmpdir(), 'atelier-worker-'))));
    } finally {
      release();
      await dir?.then((path) => rm(path, { recursive: true, force: true }), () => undefined);
    }
  }

  /** Commits what `load` returns; output that does not decode is the attempt's failure, as in the runner. */
  async function commitOutputs(attempt: Attempt, load: () => Promise<GeneratedOutput[]>): Promise<CompleteResult> {
    const { job, lease } = attempt;
    let committed;
    try {
      committed = await pipeline.commit(attempt, await load());
    } catch (error) {
      const failure = classifyError(error);
      return failAttempt(attempt, { ...failure, message: `Post-processing the worker's output failed: ${failure.message}` });
    }
    if (committed.kind === 'lost') throw await leaseLost(job.id, lease.attempt);
    deps.metrics.renderDuration.observe({ backend: 'remote' }, (clock() - Number(job.started_at ?? job.updated_at)) / 1000);
    return { job_id: job.id, status: 'succeeded', attempt: lease.attempt, assets: committed.assets.map(assetView), error: null };
  }

  /** JSON callback: the outputs were staged by uploads of this attempt. */
  async function succeedStaged(attempt: Attempt, request: CompleteRequest): Promise<CompleteResult> {
    await requireLease(attempt);
    const { job, spec, lease } = attempt;
    const expected = expectedOutputs(spec);
    const assets = stagedAssets(job.id, lease.attempt, expected, request.assets ?? []);
    // Uploads this node stored are taken from memory: not checked for, nor read back.
    const heldBytes = (key: string) => heldUploads.find(job.id, key);
    await requireStaged(deps.storage, job.id, lease.attempt, expected, assets, heldBytes);
    const result = await withLeaseHeld(attempt, (workDir) =>
      commitOutputs(attempt, () => loadStaged(deps.storage, spec, job.id, lease.attempt, expected, assets, workDir, heldBytes)),
    );
    if (result.status === 'succeeded') void deleteStaging(job, lease.attempt);
    return result;
  }

  /** Multipart callback: the outputs are the request's file parts, straight to the commit. */
  async function succeedStreamed(attempt: Attempt, request: MultipartResult, parts: AsyncIterable<FilePart>): Promise<CompleteResult> {
    await requireLease(attempt);
    const { job, spec, lease } = attempt;
    const expected = expectedOutputs(spec);
    const metadata = multipartMetadata(expected, request.assets);
    const result = await withLeaseHeld(attempt, async (workDir) => {
      // Refusals while receiving are the request's (4xx, lease kept): the job is given nothing.
      const received = await receiveParts(parts, expected, maxUploadBytes, workDir);
      return commitOutputs(attempt, () =>
        Promise.all(
          received.map((asset) => {
            const seed = assetSeed(spec, asset.index, metadata.get(asset.index));
            return asset.file === undefined ? imageOutput(asset.index, seed, asset.data) : videoOutput(asset.index, seed, asset.file);
          }),
        ),
      );
    });
    // Uploads an earlier attempt staged before its lease expired belong to nobody now.
    if (result.status === 'succeeded' && lease.attempt > 1) void deleteStaging(job, lease.attempt - 1);
    return result;
  }

  function reportedFailure(request: Callback): ClassifiedError {
    const code = request.error_code && request.error_code in errorCatalog ? (request.error_code as ErrorCode) : 'backend_failed';
    const message = request.error_message?.trim() || 'The worker reported a failure without a message';
    const retryable = request.retryable ?? errorCatalog[code].status >= 500;
    return { code, message: message.slice(0, 2000), retryable };
  }

  /**
   * One answer per lease token: a repeat of a finished callback gets the answer kept for it,
   * one arriving while the first is processed waits for that answer, and neither does anything.
   */
  async function answerOnce(jobId: string, request: Callback, succeed: (attempt: Attempt) => Promise<CompleteResult>): Promise<CompleteResult> {
    if (request.job_id !== undefined && request.job_id !== jobId) {
      throw new AtelierError('invalid_parameter', `The callback's job_id '${request.job_id}' is not the job of this URL ('${jobId}')`, { field: 'job_id' });
    }
    const key = `${jobId}:${request.lease_token}`;
    const cached = results.get(key);
    if (cached) return cached.result;
    const running = inFlight.get(key);
    if (running) return running;
    const work = (async () => {
      const attempt = await attemptFor(jobId, request.lease_token);
      return request.status === 'failed' ? failAttempt(attempt, reportedFailure(request)) : succeed(attempt);
    })();
    inFlight.set(key, work);
    try {
      const result = await work;
      // Answered: the attempt is over (a repeat gets the answer kept below).
      held.forget(jobId);
      heldUploads.forget(jobId);
      const now = clock();
      for (const [k, v] of results) if (now - v.at > RESULT_TTL_MS) results.delete(k);
      results.set(key, { result, at: now });
      return result;
    } finally {
      inFlight.delete(key);
    }
  }

  return {
    /** The JSON callback, naming staged uploads (or reporting a failure). */
    complete(_worker: { readonly name: string }, jobId: string, request: CompleteRequest): Promise<CompleteResult> {
      return answerOnce(jobId, request, (attempt) => succeedStaged(attempt, request));
    },

    /**
     * The multipart callback: `request` is its `result` part, `parts` its file parts. Parts a
     * repeat or a failure report does not need are left unread: the caller discards them.
     */
    completeWithParts(_worker: { readonly name: string }, jobId: string, request: MultipartResult, parts: AsyncIterable<FilePart>): Promise<CompleteResult> {
      return answerOnce(jobId, request, (attempt) => succeedStreamed(attempt, request, parts));
    },

    /** Waits for the completions being processed (at shutdown). */
    async settle(): Promise<void> {
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
