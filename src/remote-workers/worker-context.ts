import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { JobRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { JobEvents } from '../events/job-events.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Lease, Queue } from '../queue/queue.js';
import type { Attempt, AttemptPipeline } from '../runner/attempt-pipeline.js';
import type { Storage } from '../storage/storage.js';
import type { UrlSigner } from '../storage/url-signer.js';
import { createHeldAttempts } from './held-attempts.js';
import { createHeldUploads } from './held-uploads.js';
import { allStagingKeys, expectedOutputs } from './staging.js';
import type { WorkerTokensRepo } from '../db/repos/worker-tokens-repo.js';

export interface WorkerServiceDeps {
  readonly queue: Queue;
  readonly jobs: JobsRepo;
  readonly events: JobEvents;
  /** For ephemeral `preview` events, which are published without being stored. */
  readonly bus: EventBus;
  readonly storage: Storage;
  readonly tokens: WorkerTokensRepo;
  /** The attempt pipeline the in-process runner uses too: one commit path for both. */
  readonly pipeline: AttemptPipeline;
  /** Names of the configured backends of type `remote`. */
  readonly remoteBackends: readonly string[];
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * Signs presigned upload URLs (disk storage: URLs to this server's upload route carrying
   * a signature instead of the lease token). Without it only direct uploads are offered.
   */
  readonly uploadSigner?: UrlSigner;
}

export interface WorkerServiceOptions {
  readonly leaseMs: number;
  /** Lifetime of the signed input download URLs handed out with a claim. */
  readonly inputUrlTtlSeconds?: number;
  /** Lifetime of presigned upload URLs (they also stop working when the attempt ends). */
  readonly uploadUrlTtlSeconds?: number;
  /** Largest upload of one asset. */
  readonly maxUploadBytes?: number;
  /** Longest long-poll of a claim. */
  readonly maxWaitSeconds?: number;
  /** How long a checked worker token is trusted without asking the database (default WORKER_TOKEN_CACHE_MS). */
  readonly tokenCacheMs?: number;
  readonly clock?: () => number;
}

/** Attempts remembered from claims for their callbacks (held-attempts.ts): far more than a node's workers hold at once. */
const HELD_ATTEMPTS = 2_000;
/** Bytes of staged image uploads kept for their callbacks (held-uploads.ts). */
const HELD_UPLOAD_BYTES = 64 * 1024 * 1024;

const DEFAULTS = {
  inputUrlTtlSeconds: 6 * 3600,
  uploadUrlTtlSeconds: 6 * 3600,
  maxUploadBytes: 1024 * 1024 * 1024,
  maxWaitSeconds: 30,
};

/** The worker-facing lease token: `{attempt}.{queue lease token}`. */
export function formatLeaseToken(lease: Pick<Lease, 'attempt' | 'token'>): string {
  return `${lease.attempt}.${lease.token}`;
}

export function parseLeaseToken(value: string): { attempt: number; token: string } | undefined {
  const match = /^(\d{1,6})\.([A-Za-z0-9-]{8,64})$/.exec(value);
  return match ? { attempt: Number(match[1]), token: match[2]! } : undefined;
}

/** What a presigned upload URL's signature covers; ':' keeps it apart from any media key. */
export function uploadClaim(jobId: string, attempt: number, index: number): string {
  return `worker-upload:${jobId}:${attempt}:${index}`;
}

/**
 * What the claim, upload and completion halves of the worker service share: the resolved
 * options, the lease checks, the refusal of a lost lease, metrics and staged-upload clean-up.
 */
export function createWorkerContext(deps: WorkerServiceDeps, options: WorkerServiceOptions) {
  const clock = options.clock ?? Date.now;
  const leaseMs = options.leaseMs;
  const remote = new Set(deps.remoteBackends);
  const state = { lastRecovery: 0 };
  /** Ends every long poll at shutdown, so closing the server does not wait for them. */
  const stopping = new AbortController();
  const held = createHeldAttempts(HELD_ATTEMPTS);
  const heldUploads = createHeldUploads(HELD_UPLOAD_BYTES);

  function isRemoteJob(job: Pick<JobRow, 'backend'>): boolean {
    return remote.has(job.backend);
  }

  async function recoverExpiredLeases(): Promise<void> {
    state.lastRecovery = clock();
    await deps.pipeline.recoverExpired();
  }

  /** The attempt a worker's lease token names (the queue refuses it if it is not live). */
  function attemptOf(job: JobRow, leaseToken: string): Attempt {
    const parsed = parseLeaseToken(leaseToken);
    if (!parsed) throw new AtelierError('lease_lost', 'The lease token is not one this server issued', { field: 'lease_token' });
    const lease: Lease = { jobId: job.id, token: parsed.token, attempt: parsed.attempt, maxAttempts: job.max_attempts, expiresAt: 0 };
    return { job, spec: JSON.parse(job.spec) as JobSpec, lease };
  }

  /**
   * The attempt a callback's lease token names: the one this node's claim began, when it is
   * still remembered (no read), else from the job's row as it is now.
   */
  async function attemptFor(jobId: string, leaseToken: string): Promise<Attempt> {
    const parsed = parseLeaseToken(leaseToken);
    return (parsed && held.find(jobId, parsed.attempt, parsed.token)) ?? attemptOf(await findJob(jobId), leaseToken);
  }

  async function findJob(jobId: string): Promise<JobRow> {
    const job = await deps.jobs.findById(jobId);
    if (!job || !isRemoteJob(job)) throw new AtelierError('not_found', `No remote job with id '${jobId}'`, { field: 'id' });
    return job;
  }

  /**
   * The refusal of a call whose lease is gone, saying what became of the job. `current` is the
   * row when the caller read it in this same request; otherwise (the queue refused the lease
   * after the read) it is read again, on this failure path only.
   */
  async function leaseLost(jobId: string, attempt: number, current?: JobRow): Promise<AtelierError> {
    current ??= await deps.jobs.findById(jobId);
    if (current?.status === 'canceled') deps.pipeline.observeCanceled(current);
    const status = current?.status ?? 'deleted';
    const why =
      status === 'canceled'
        ? 'the job was canceled'
        : status === 'succeeded' || status === 'failed'
          ? `the job already ${status}`
          : current && current.attempts !== attempt
            ? `attempt ${attempt} is over: the job went back to the queue (lease expired) and is now attempt ${current.attempts}`
            : 'the lease expired and the job went back to the queue';
    return new AtelierError('lease_lost', `Lease lost: ${why}. Drop the job.`, { details: { job_status: status } });
  }

  async function deleteStaging(job: Pick<JobRow, 'id' | 'spec' | 'attempts'>, attempts = job.attempts): Promise<void> {
    heldUploads.forget(job.id);
    const spec = JSON.parse(job.spec) as JobSpec;
    for (const key of allStagingKeys(job.id, Math.max(1, attempts), expectedOutputs(spec))) {
      await deps.storage.delete(key).catch((error: unknown) => deps.logger.warn({ jobId: job.id, key, err: error }, 'could not delete a staged upload'));
    }
  }

  return {
    deps,
    options,
    clock,
    leaseMs,
    inputUrlTtl: options.inputUrlTtlSeconds ?? DEFAULTS.inputUrlTtlSeconds,
    uploadUrlTtl: options.uploadUrlTtlSeconds ?? DEFAULTS.uploadUrlTtlSeconds,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULTS.maxUploadBytes,
    maxWaitSeconds: options.maxWaitSeconds ?? DEFAULTS.maxWaitSeconds,
    heartbeatIntervalSeconds: Math.max(0.1, Math.round((leaseMs / 3 / 1000) * 1000) / 1000),
    remote,
    stopping,
    /** When expired leases were last swept (by a claim or the service's sweeper). */
    get lastRecovery(): number {
      return state.lastRecovery;
    },
    isRemoteJob,
    recoverExpiredLeases,
    attemptOf,
    attemptFor,
    held,
    heldUploads,
    findJob,
    leaseLost,
    deleteStaging,
  };
}

export type WorkerContext = ReturnType<typeof createWorkerContext>;
