import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend, GeneratedOutput } from '../backends/backend.js';
import type { ModelRegistry } from '../backends/model-registry.js';
import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { JobRow, NewAssetRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import { UnrecoverableError } from '../errors/signals.js';
import { errorCatalog, type ErrorCode } from '../errors/catalog.js';
import type { EventBus } from '../events/event-bus.js';
import type { JobEvents } from '../events/job-events.js';
import { previewMime, publishPreview } from '../events/preview-events.js';
import { isTerminal } from '../jobs/job-status.js';
import { seedForImage, type JobSpec } from '../jobs/job-spec.js';
import type { MediaMetrics } from '../media/image/media-metrics.js';
import { DEFAULT_PRESETS, type DeliveryPreset } from '../media/image/presets.js';
import { probeVideo } from '../media/video/probe-video.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { remoteLane } from '../queue/lanes.js';
import type { Lease, Queue } from '../queue/queue.js';
import { classifyError } from '../runner/classify-error.js';
import { recordFailedAttempt } from '../runner/record-failure.js';
import { removeOutputs, storeOutputs } from '../runner/store-outputs.js';
import type { Storage } from '../storage/storage.js';
import type { UrlSigner } from '../storage/url-signer.js';
import { allStagingKeys, expectedOutputs, pngSize, stagingIndex, stagingKey, UploadCheck, type ExpectedOutputs } from './staging.js';
import { WORKER_TOKEN_PREFIX, type WorkerTokenRow, type WorkerTokensRepo } from './worker-tokens-repo.js';

export interface WorkerServiceDeps {
  readonly queue: Queue;
  readonly jobs: JobsRepo;
  readonly events: JobEvents;
  /** For ephemeral `preview` events, which are published without being stored. */
  readonly bus: EventBus;
  readonly storage: Storage;
  readonly tokens: WorkerTokensRepo;
  readonly backends: ReadonlyMap<string, Backend>;
  /** Names of the configured backends of type `remote`. */
  readonly remoteBackends: readonly string[];
  readonly registry: ModelRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly media?: { readonly presetFor: (model: string) => DeliveryPreset; readonly metrics?: MediaMetrics };
  /** Called after a success is committed, exactly like the runner's hook (prompt cache, evaluation). */
  readonly onSucceeded?: (job: JobRow, spec: JobSpec, assets: readonly NewAssetRow[]) => Promise<void>;
  /**
   * Signs presigned upload URLs (disk storage: URLs to this server's upload route carrying
   * a signature instead of the lease token). Without it only direct uploads are offered.
   */
  readonly uploadSigner?: UrlSigner;
}

export interface WorkerServiceOptions {
  readonly leaseMs: number;
  readonly workspaceTtlMs: number;
  /** Lifetime of the signed input download URLs handed out with a claim. */
  readonly inputUrlTtlSeconds?: number;
  /** Lifetime of presigned upload URLs (they also stop working when the attempt ends). */
  readonly uploadUrlTtlSeconds?: number;
  /** Largest upload of one asset. */
  readonly maxUploadBytes?: number;
  /** Longest long-poll of a claim. */
  readonly maxWaitSeconds?: number;
  readonly clock?: () => number;
}

export interface ClaimRequest {
  readonly backends?: readonly string[];
  readonly wait_seconds?: number;
  readonly upload_mode?: 'direct' | 'presigned';
  /** The worker process's own label (host, GPU index), recorded as the lease owner. */
  readonly worker_id?: string;
}

export interface ClaimedJob {
  readonly job_id: string;
  readonly lease_token: string;
  readonly attempt: number;
  readonly max_attempts: number;
  readonly lease_expires_at: string;
  readonly lease_seconds: number;
  readonly heartbeat_interval_seconds: number;
  readonly backend: string;
  readonly model: string;
  readonly mode: string;
  readonly spec: JobSpec;
  readonly inputs: { reference?: string; start?: string; end?: string };
  readonly upload: {
    readonly mode: 'direct' | 'presigned';
    readonly method: 'PUT';
    readonly type: 'image' | 'video';
    readonly content_type: string;
    readonly count: number;
    readonly max_bytes: number;
    readonly urls: string[];
    readonly expires_at?: string;
  };
}

export interface HeartbeatRequest {
  readonly lease_token: string;
  readonly progress?: { readonly step: number; readonly total_steps: number };
  readonly preview_b64?: string;
}

export interface HeartbeatResult {
  readonly continue: boolean;
  readonly status: string;
  readonly lease_expires_at?: string;
}

export interface CallbackAsset {
  readonly type: string;
  readonly url: string;
  readonly thumbnail_url?: string | null;
  readonly metadata?: object | null;
  readonly index?: number;
}

/** Seed 000's callback, plus the lease token and optional error code / retry hint. */
export interface CompleteRequest {
  readonly job_id?: string;
  readonly lease_token: string;
  readonly status: 'completed' | 'succeeded' | 'failed';
  readonly assets?: readonly CallbackAsset[];
  readonly error_message?: string | null;
  readonly error_code?: string | null;
  readonly retryable?: boolean;
  readonly metadata?: object | null;
}

export interface CompleteResult {
  readonly job_id: string;
  readonly status: 'succeeded' | 'retrying' | 'failed';
  readonly attempt: number;
  readonly assets: { id: string; index: number; type: string; url: string; thumbnail_url: string | null; metadata: Record<string, unknown> }[];
  readonly error: { code: string; message: string } | null;
  readonly retry_at?: string;
}

export type UploadAuth =
  | { readonly kind: 'lease'; readonly worker: WorkerTokenRow; readonly leaseToken: string }
  | { readonly kind: 'signed'; readonly attempt: number; readonly expires: string; readonly signature: string };

export interface UploadResult {
  readonly index: number;
  /** The staging key: put it in the callback's `assets[].url`. */
  readonly url: string;
  readonly bytes: number;
  readonly sha256: string;
}

const DEFAULT_PRESET = DEFAULT_PRESETS.find((p) => p.name === 'stable-diffusion')!;

const DEFAULTS = {
  inputUrlTtlSeconds: 6 * 3600,
  uploadUrlTtlSeconds: 6 * 3600,
  maxUploadBytes: 1024 * 1024 * 1024,
  maxWaitSeconds: 30,
};
/** How long a finished completion's answer is kept for a repeated callback. */
const RESULT_TTL_MS = 15 * 60_000;
const SEEN_THROTTLE_MS = 30_000;

/** The worker-facing lease token: `{attempt}.{queue lease token}`. */
export function formatLeaseToken(lease: Pick<Lease, 'attempt' | 'token'>): string {
  return `${lease.attempt}.${lease.token}`;
}

export function parseLeaseToken(value: string): { attempt: number; token: string } | undefined {
  const match = /^(\d{1,6})\.([A-Za-z0-9-]{8,64})$/.exec(value);
  return match ? { attempt: Number(match[1]), token: match[2]! } : undefined;
}

/** What a presigned upload URL's signature covers; ':' keeps it apart from any media key. */
function uploadClaim(jobId: string, attempt: number, index: number): string {
  return `worker-upload:${jobId}:${attempt}:${index}`;
}

/**
 * The remote-worker protocol (docs/worker-protocol.md): long-poll claims from the remote
 * lanes, heartbeats that keep the lease and relay progress and previews, staged uploads and
 * the completion callback — post-processed and committed exactly like an in-process run:
 * assets and success in one transaction guarded by the attempt, so a late or repeated
 * callback from a lost lease can never give a job a second set of assets.
 */
export function createWorkerService(deps: WorkerServiceDeps, options: WorkerServiceOptions) {
  const clock = options.clock ?? Date.now;
  const leaseMs = options.leaseMs;
  const inputUrlTtl = options.inputUrlTtlSeconds ?? DEFAULTS.inputUrlTtlSeconds;
  const uploadUrlTtl = options.uploadUrlTtlSeconds ?? DEFAULTS.uploadUrlTtlSeconds;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULTS.maxUploadBytes;
  const maxWaitSeconds = options.maxWaitSeconds ?? DEFAULTS.maxWaitSeconds;
  const heartbeatIntervalSeconds = Math.max(0.1, Math.round((leaseMs / 3 / 1000) * 1000) / 1000);
  const remote = new Set(deps.remoteBackends);

  /** Answers of finished completions by lease token, for a worker that repeats its callback. */
  const results = new Map<string, { result: CompleteResult; at: number }>();
  const inFlight = new Map<string, Promise<CompleteResult>>();
  /** Remote jobs whose cancel while running was counted (the runner counts its own). */
  const canceledCounted = new Set<string>();
  const lastSeen = new Map<string, number>();
  let sweeper: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let lastRecovery = 0;
  /** Ends every long poll at shutdown, so closing the server does not wait for them. */
  const stopping = new AbortController();

  function isRemoteJob(job: Pick<JobRow, 'backend'>): boolean {
    return remote.has(job.backend);
  }

  async function authenticate(token: string | undefined): Promise<WorkerTokenRow> {
    if (!token) throw new AtelierError('unauthorized', 'Missing bearer token: send Authorization: Bearer <worker token> (atw_…, from `atelier workers add`)');
    if (!token.startsWith(WORKER_TOKEN_PREFIX)) {
      throw new AtelierError('forbidden', 'The worker API takes a worker token (atw_…, from `atelier workers add` or POST /api/admin/workers), not an API token');
    }
    const worker = await deps.tokens.findByToken(token);
    if (!worker) throw new AtelierError('unauthorized', 'The worker token is not valid (revoked or never issued)');
    const now = clock();
    if (now - (lastSeen.get(worker.id) ?? 0) >= SEEN_THROTTLE_MS) {
      lastSeen.set(worker.id, now);
      await deps.tokens.touch(worker.id, now);
    }
    return worker;
  }

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

  async function recoverExpiredLeases(): Promise<void> {
    lastRecovery = clock();
    for (const expired of await deps.queue.recoverExpired()) {
      const job = await deps.jobs.findById(expired.jobId);
      if (!job) continue;
      deps.logger.warn({ jobId: job.id, outcome: expired.outcome.kind }, 'lease expired');
      if (await recordFailedAttempt(deps, job, expired.outcome, expired.error, clock)) observeFinished(job, 'failed');
    }
  }

  async function leaseOf(job: JobRow, leaseToken: string): Promise<Lease> {
    const parsed = parseLeaseToken(leaseToken);
    if (!parsed) throw new AtelierError('lease_lost', 'The lease token is not one this server issued', { field: 'lease_token' });
    return { jobId: job.id, token: parsed.token, attempt: parsed.attempt, maxAttempts: job.max_attempts, expiresAt: 0 };
  }

  async function findJob(jobId: string): Promise<JobRow> {
    const job = await deps.jobs.findById(jobId);
    if (!job || !isRemoteJob(job)) throw new AtelierError('not_found', `No remote job with id '${jobId}'`, { field: 'id' });
    return job;
  }

  /** The refusal of a call whose lease is gone, saying what became of the job. */
  async function leaseLost(jobId: string, attempt: number): Promise<AtelierError> {
    const current = await deps.jobs.findById(jobId);
    if (current?.status === 'canceled') countCanceled(current);
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

  function countCanceled(job: JobRow): void {
    if (canceledCounted.has(job.id)) return;
    canceledCounted.add(job.id);
    if (canceledCounted.size > 10_000) canceledCounted.delete(canceledCounted.values().next().value!);
    observeFinished(job, 'canceled');
  }

  function observeFinished(job: JobRow, status: string): void {
    deps.metrics.jobsFinished.inc({ status, model: job.model });
    deps.metrics.jobDuration.observe({ status, model: job.model }, (clock() - Number(job.created_at)) / 1000);
  }

  async function deleteStaging(job: Pick<JobRow, 'id' | 'spec' | 'attempts'>, attempts = job.attempts): Promise<void> {
    const spec = JSON.parse(job.spec) as JobSpec;
    for (const key of allStagingKeys(job.id, Math.max(1, attempts), expectedOutputs(spec))) {
      await deps.storage.delete(key).catch((error: unknown) => deps.logger.warn({ jobId: job.id, key, err: error }, 'could not delete a staged upload'));
    }
  }

  function absolute(url: string, origin: string): string {
    return new URL(url, origin).toString();
  }

  async function signInputs(spec: JobSpec, origin: string): Promise<ClaimedJob['inputs']> {
    const sign = async (key: string | undefined) => (key === undefined ? undefined : absolute(await deps.storage.signedUrl(key, { expiresInSeconds: inputUrlTtl }), origin));
    const [reference, start, end] = await Promise.all([sign(spec.reference?.key), sign(spec.startImage?.key), sign(spec.endImage?.key)]);
    return { ...(reference ? { reference } : {}), ...(start ? { start } : {}), ...(end ? { end } : {}) };
  }

  function uploadInstructions(job: JobRow, lease: Lease, leaseToken: string, expected: ExpectedOutputs, origin: string, wanted: 'direct' | 'presigned'): ClaimedJob['upload'] {
    const path = (index: number) => `${origin}/api/worker/jobs/${encodeURIComponent(job.id)}/assets/${index}`;
    const indexes = Array.from({ length: expected.count }, (_, i) => i);
    const base = { method: 'PUT' as const, type: expected.type, content_type: expected.contentType, count: expected.count, max_bytes: maxUploadBytes };
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
  async function startLease(lease: Lease, owner: string, request: ClaimRequest, origin: string): Promise<ClaimedJob | undefined> {
    const job = await deps.jobs.findById(lease.jobId);
    if (!job || isTerminal(job.status) || !(await deps.jobs.markRunning(job.id, lease.attempt, owner, lease.expiresAt, clock()))) {
      // Canceled or finished while queued: the entry is all that is left of it.
      await deps.queue.complete(lease);
      return undefined;
    }
    await deps.events.emit(job, 'running', { attempt: lease.attempt, maxAttempts: lease.maxAttempts });
    const spec = JSON.parse(job.spec) as JobSpec;
    const leaseToken = formatLeaseToken(lease);
    return {
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

  /** Gives back a lease whose claim nobody received (the worker hung up): retried at once. */
  async function giveBack(lease: Lease): Promise<void> {
    const error = { code: 'lease_expired', message: 'The worker disconnected before it received the job' };
    const outcome = await deps.queue.fail(lease, error, true);
    const job = await deps.jobs.findById(lease.jobId);
    if (outcome && job && (await recordFailedAttempt(deps, job, outcome, error, clock))) observeFinished(job, 'failed');
  }

  async function claim(worker: WorkerTokenRow, request: ClaimRequest, origin: string, signal?: AbortSignal): Promise<ClaimedJob | undefined> {
    const lanes = lanesFor(request.backends);
    const waitMs = Math.min(maxWaitSeconds, Math.max(0, request.wait_seconds ?? 0)) * 1000;
    const owner = `worker:${worker.name}${request.worker_id ? `/${request.worker_id}` : ''}`.slice(0, 200);
    const deadline = clock() + waitMs;
    const waitSignal = signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal;
    for (;;) {
      if (waitSignal.aborted) return undefined;
      // Expired leases go back to the queue even when no in-process runner sweeps them.
      if (clock() - lastRecovery >= Math.min(leaseMs / 2, 1000)) await recoverExpiredLeases();
      const lease = await deps.queue.claim(owner, leaseMs, lanes);
      if (lease) {
        const claimed = await startLease(lease, owner, request, origin);
        if (!claimed) continue;
        if (signal?.aborted) {
          await giveBack(lease);
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

  async function heartbeat(_worker: WorkerTokenRow, jobId: string, request: HeartbeatRequest): Promise<HeartbeatResult> {
    const job = await findJob(jobId);
    const lease = await leaseOf(job, request.lease_token);
    if (!(await deps.queue.heartbeat(lease, leaseMs))) {
      const current = await deps.jobs.findById(jobId);
      if (current?.status === 'canceled') {
        countCanceled(current);
        return { continue: false, status: 'canceled' };
      }
      throw await leaseLost(jobId, lease.attempt);
    }
    if (job.status === 'canceled') {
      // Canceled between the record and the queue entry: stop all the same.
      countCanceled(job);
      return { continue: false, status: 'canceled' };
    }
    if (job.status !== 'running' || job.attempts !== lease.attempt) throw await leaseLost(jobId, lease.attempt);
    const expiresAt = clock() + leaseMs;
    await deps.jobs.extendLease(job.id, lease.attempt, expiresAt);
    const progress = request.progress;
    if (progress) {
      if (progress.step > progress.total_steps) {
        throw new AtelierError('invalid_parameter', `Expected progress.step ≤ progress.total_steps but received ${progress.step} > ${progress.total_steps}`, { field: 'progress.step' });
      }
      if (progress.step !== job.progress_step || progress.total_steps !== job.progress_total) {
        await deps.jobs.updateProgress(job.id, lease.attempt, progress.step, progress.total_steps, clock());
        const fraction = progress.total_steps > 0 ? progress.step / progress.total_steps : 0;
        await deps.events.emit(job, 'progress', { step: progress.step, totalSteps: progress.total_steps, progress: fraction });
      }
    }
    if (request.preview_b64) {
      const data = Buffer.from(request.preview_b64, 'base64');
      const mime = previewMime(data);
      if (!mime) throw new AtelierError('invalid_image', 'Expected preview_b64 to be a base64 JPEG, PNG or WEBP image', { field: 'preview_b64' });
      await publishPreview(deps.bus, job, { data, mime }, progress ? { step: progress.step, totalSteps: progress.total_steps } : undefined, clock());
    }
    return { continue: true, status: 'running', lease_expires_at: new Date(expiresAt).toISOString() };
  }

  async function receiveUpload(jobId: string, index: number, auth: UploadAuth, body: Readable): Promise<UploadResult> {
    const job = await findJob(jobId);
    let attempt: number;
    if (auth.kind === 'lease') {
      const lease = await leaseOf(job, auth.leaseToken);
      if (!(await deps.queue.heartbeat(lease, leaseMs))) throw await leaseLost(jobId, lease.attempt);
      await deps.jobs.extendLease(job.id, lease.attempt, clock() + leaseMs);
      attempt = lease.attempt;
    } else {
      if (!deps.uploadSigner || !deps.uploadSigner.verify(uploadClaim(jobId, auth.attempt, index), auth.expires, auth.signature)) {
        throw new AtelierError('signature_invalid', 'The presigned upload URL is invalid or has expired');
      }
      attempt = auth.attempt;
    }
    if (job.status !== 'running' || job.attempts !== attempt) throw await leaseLost(jobId, attempt);
    const expected = expectedOutputs(JSON.parse(job.spec) as JobSpec);
    if (!(index < expected.count)) {
      throw new AtelierError('invalid_parameter', `Expected an asset index 0–${expected.count - 1} (the job makes ${expected.count} ${expected.type}${expected.count > 1 ? 's' : ''}) but received ${index}`, { field: 'index' });
    }
    const key = stagingKey(jobId, attempt, index, expected.ext);
    const check = new UploadCheck(expected.ext, maxUploadBytes);
    // Listening on both streams from the start: the check may fail before storage reads.
    const feeding = pipeline(body, check).catch(() => undefined);
    try {
      await deps.storage.put(key, check, { contentType: expected.contentType });
    } catch (error) {
      throw check.failure ?? error;
    } finally {
      await feeding;
    }
    if (check.failure) throw check.failure;
    return { index, url: key, bytes: check.bytes, sha256: check.sha256 };
  }

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
        written = await storeOutputs(deps.storage, job, spec, outputs, {
          modelLabel: deps.registry.resolve(job.model).label,
          preset: deps.media?.presetFor(job.model) ?? DEFAULT_PRESET,
          ...(deps.media?.metrics ? { mediaMetrics: deps.media.metrics } : {}),
          workspaceTtlMs: options.workspaceTtlMs,
          now: clock,
        });
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
    authenticate,
    claim,
    heartbeat,
    receiveUpload,
    complete,
    /** Whether presigned uploads can be offered (disk storage). */
    get presignedUploads(): boolean {
      return deps.uploadSigner !== undefined;
    },
    get maxUploadBytes(): number {
      return maxUploadBytes;
    },
    get maxWaitSeconds(): number {
      return maxWaitSeconds;
    },
    createWorker: (name: string) => deps.tokens.create(name, clock()),
    listWorkers: () => deps.tokens.list(),
    removeWorker: (idOrName: string) => deps.tokens.remove(idOrName),

    /** Sweeps expired leases (also when no in-process runner does) and cleans staged uploads. */
    start(): void {
      if (remote.size === 0 || sweeper) return;
      sweeper = setInterval(() => {
        if (clock() - lastRecovery < Math.min(leaseMs / 2, 1000)) return;
        recoverExpiredLeases().catch((error: unknown) => deps.logger.warn({ err: error }, 'lease recovery failed'));
      }, Math.max(100, Math.min(leaseMs / 2, 1000)));
      sweeper.unref();
      // Uploads staged by attempts that never completed (expired, canceled) go when the job ends.
      unsubscribe = deps.events.subscribe('*', (event) => {
        if (event.type !== 'failed' && event.type !== 'canceled') return;
        void deps.jobs
          .findById(event.jobId)
          .then((job) => (job && isRemoteJob(job) ? deleteStaging(job) : undefined))
          .catch((error: unknown) => deps.logger.warn({ jobId: event.jobId, err: error }, 'staged upload clean-up failed'));
      });
    },

    async stop(): Promise<void> {
      stopping.abort();
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}

export type WorkerService = ReturnType<typeof createWorkerService>;
