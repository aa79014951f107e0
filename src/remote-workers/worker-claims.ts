import { AtelierError } from '../errors/atelier-error.js';
import { previewMime, publishPreview } from '../events/preview-events.js';
import { mapSpecInputs } from '../jobs/conditioning.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { JobRow } from '../db/schema.js';
import { remoteLane } from '../queue/lanes.js';
import type { Lease } from '../queue/queue.js';
import { assetPartName, WORKER_PROTOCOL_VERSION, type ClaimedJob, type ClaimRequest, type HeartbeatRequest, type HeartbeatResult } from '../api/schemas/worker-protocol.js';
import { unmetNeed, workerProtocol, type ProtocolVersion } from './protocol-version.js';
import { expectedOutputs, type ExpectedOutputs } from './staging.js';
import { formatLeaseToken, uploadClaim, type WorkerContext } from './worker-context.js';

/** The worker a call comes from (its token's row). */
type Caller = { readonly name: string };

/**
 * Claims and heartbeats: long-polls the remote lanes, turns a lease into a running job and the
 * worker's instructions (signed input URLs, upload URLs), and keeps the lease while the worker
 * relays progress and previews.
 */
export function createWorkerClaims(ctx: WorkerContext) {
  const { deps, clock, leaseMs, remote, stopping, inputUrlTtl, uploadUrlTtl, maxUploadBytes, maxWaitSeconds, heartbeatIntervalSeconds } = ctx;
  const { findJob, attemptOf, leaseLost } = ctx;
  const { pipeline } = deps;

  function lanesFor(backends: readonly string[] | undefined): string[] {
    if (backends === undefined || backends.length === 0) {
      if (remote.size === 0) throw new AtelierError('invalid_parameter', 'This server has no remote backends: configure one with {"type": "remote"} under backends', { field: 'backends' });
      return [...remote].map(remoteLane);
    }
    for (const name of backends) {
      if (!remote.has(name)) {
        throw new AtelierError('invalid_parameter', `'${name}' is not a remote backend of this server. Remote backends: ${[...remote].join(', ') || 'none'}`, {
          field: 'backends',
          details: { available: [...remote] },
        });
      }
    }
    return [...new Set(backends)].map(remoteLane);
  }

  function absolute(url: string, origin: string): string {
    return new URL(url, origin).toString();
  }

  async function signInputs(spec: JobSpec, origin: string): Promise<ClaimedJob['inputs']> {
    // New keys only when used, so a claim without guided generation is what it always was.
    return mapSpecInputs(spec, async (key) => absolute(await deps.storage.signedUrl(key, { expiresInSeconds: inputUrlTtl }), origin));
  }

  function uploadInstructions(job: JobRow, lease: Lease, leaseToken: string, expected: ExpectedOutputs, origin: string, wanted: 'direct' | 'presigned'): ClaimedJob['upload'] {
    const path = (index: number) => `${origin}/api/worker/jobs/${encodeURIComponent(job.id)}/assets/${index}`;
    const indexes = Array.from({ length: expected.count }, (_, i) => i);
    const base = {
      method: 'PUT' as const,
      type: expected.type,
      content_type: expected.contentType,
      count: expected.count,
      max_bytes: maxUploadBytes,
      // The one-request way: outputs as file parts of the completion itself, nothing staged.
      complete_url: `${origin}/api/worker/jobs/${encodeURIComponent(job.id)}/complete`,
      complete_parts: indexes.map(assetPartName),
    };
    if (wanted === 'presigned' && deps.uploadSigner) {
      const signer = deps.uploadSigner;
      const expiresAt = new Date(clock() + uploadUrlTtl * 1000);
      const urls = indexes.map((i) => {
        const { expires, signature } = signer.sign(uploadClaim(job.id, lease.attempt, i), expiresAt);
        return `${path(i)}?attempt=${lease.attempt}&expires=${expires}&signature=${encodeURIComponent(signature)}`;
      });
      return { ...base, mode: 'presigned', urls, expires_at: expiresAt.toISOString() };
    }
    return { ...base, mode: 'direct', urls: indexes.map((i) => `${path(i)}?lease_token=${encodeURIComponent(leaseToken)}`) };
  }

  /** Turns a fresh lease into a running job and the worker's instructions; undefined if the job is gone. */
  async function startLease(lease: Lease, owner: string, request: ClaimRequest, origin: string, version: ProtocolVersion): Promise<ClaimedJob | undefined> {
    const attempt = await pipeline.begin(lease, owner);
    if (!attempt) return undefined;
    const { job, spec } = attempt;
    const unmet = unmetNeed(spec, version);
    if (unmet) {
      // Retryable: a newer worker may take the next attempt; max attempts bound the tries.
      await pipeline.fail(attempt, { code: 'capability_unsupported', message: unmet, retryable: true });
      return undefined;
    }
    // Its callback, if it comes back here, starts from this attempt instead of reading the job.
    ctx.held.remember(attempt);
    const leaseToken = formatLeaseToken(lease);
    return {
      protocol_version: WORKER_PROTOCOL_VERSION,
      job_id: job.id,
      lease_token: leaseToken,
      attempt: lease.attempt,
      max_attempts: lease.maxAttempts,
      lease_expires_at: new Date(lease.expiresAt).toISOString(),
      lease_seconds: leaseMs / 1000,
      heartbeat_interval_seconds: heartbeatIntervalSeconds,
      backend: job.backend,
      model: job.model,
      mode: spec.mode,
      spec,
      inputs: await signInputs(spec, origin),
      upload: uploadInstructions(job, lease, leaseToken, expectedOutputs(spec), origin, request.upload_mode ?? 'direct'),
    };
  }

  async function claim(worker: Caller, request: ClaimRequest, origin: string, signal?: AbortSignal): Promise<ClaimedJob | undefined> {
    const version = workerProtocol(request.protocol_version);
    const lanes = lanesFor(request.backends);
    const waitMs = Math.min(maxWaitSeconds, Math.max(0, request.wait_seconds ?? 0)) * 1000;
    const owner = `worker:${worker.name}${request.worker_id ? `/${request.worker_id}` : ''}`.slice(0, 200);
    const deadline = clock() + waitMs;
    const waitSignal = signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal;
    for (;;) {
      if (waitSignal.aborted) return undefined;
      // Expired leases go back to the queue even when no in-process runner sweeps them.
      if (clock() - ctx.lastRecovery >= Math.min(leaseMs / 2, 1000)) await ctx.recoverExpiredLeases();
      const lease = await deps.queue.claim(owner, leaseMs, lanes);
      if (lease) {
        const claimed = await startLease(lease, owner, request, origin, version);
        if (!claimed) continue;
        if (signal?.aborted) {
          // Nobody received the claim (the worker hung up): retried at once.
          await pipeline.giveBack(lease, { code: 'lease_expired', message: 'The worker disconnected before it received the job' });
          return undefined;
        }
        deps.logger.info({ jobId: claimed.job_id, attempt: claimed.attempt, worker: owner }, 'job claimed by a remote worker');
        return claimed;
      }
      const remaining = deadline - clock();
      if (remaining <= 0) return undefined;
      await deps.queue.waitForWork(Math.min(remaining, 1000), waitSignal, lanes);
    }
  }

  async function heartbeat(_worker: Caller, jobId: string, request: HeartbeatRequest): Promise<HeartbeatResult> {
    const job = await findJob(jobId);
    const attempt = attemptOf(job, request.lease_token);
    const { lease } = attempt;
    if (job.status === 'canceled') {
      // Canceled between the record and the queue entry: stop all the same.
      pipeline.observeCanceled(job);
      return { continue: false, status: 'canceled' };
    }
    if (job.status !== 'running' || job.attempts !== lease.attempt) throw await leaseLost(jobId, lease.attempt, job);
    const progress = request.progress;
    if (progress && progress.step > progress.total_steps) {
      throw new AtelierError('invalid_parameter', `Expected progress.step ≤ progress.total_steps but received ${progress.step} > ${progress.total_steps}`, { field: 'progress.step' });
    }
    const expiresAt = clock() + leaseMs;
    if (!(await pipeline.keepLease(attempt, leaseMs))) {
      // The one re-read of the job, on this failure path only.
      const current = await deps.jobs.findById(jobId);
      if (current?.status === 'canceled') {
        pipeline.observeCanceled(current);
        return { continue: false, status: 'canceled' };
      }
      throw await leaseLost(jobId, lease.attempt, current);
    }
    if (progress && (progress.step !== job.progress_step || progress.total_steps !== job.progress_total)) {
      await pipeline.progress(attempt, progress.step, progress.total_steps);
    }
    if (request.preview_b64) {
      const data = Buffer.from(request.preview_b64, 'base64');
      const mime = previewMime(data);
      if (!mime) throw new AtelierError('invalid_image', 'Expected preview_b64 to be a base64 JPEG, PNG or WEBP image', { field: 'preview_b64' });
      await publishPreview(deps.bus, job, { data, mime }, progress ? { step: progress.step, totalSteps: progress.total_steps } : undefined, clock());
    }
    return { continue: true, status: 'running', lease_expires_at: new Date(expiresAt).toISOString() };
  }

  return { claim, heartbeat };
}
