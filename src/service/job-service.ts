import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { BackendInfo } from '../backends/backend.js';
import type { ModelRegistry } from '../backends/model-registry.js';
import type { AssetsRepo } from '../db/repos/assets-repo.js';
import type { InsertGuard, JobsRepo, LoggedChange } from '../db/repos/jobs-repo.js';
import type { JobRow, NewAssetRow, UserRow } from '../db/schema.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { JobEvents } from '../events/job-events.js';
import type { GenerationRequest, TextToImageRequest } from '../jobs/generation-request.js';
import type { ModeImages } from '../jobs/image-rules.js';
import { MAX_SEED, type InputImage, type JobSpec, type Mode } from '../jobs/job-spec.js';
import { isTerminal, TERMINAL_STATUSES } from '../jobs/job-status.js';
import { normalizeRequest } from '../jobs/normalize-request.js';
import { storageKeys } from '../storage/keys.js';
import type { Storage } from '../storage/storage.js';
import { admit, type AdmissionCheck } from './admission.js';
import type { CacheHit, PromptCache } from './prompt-cache.js';
import { cacheLookupKey, type CacheMode } from '../jobs/prompt-cache-key.js';
import type { ModelConfig } from '../backends/model-registry.js';
import type { UploadService } from './upload-service.js';
import { conditioningHasUrl, holdConditioningImages, resolveConditioningImages } from './conditioning-inputs.js';
import type { Metrics } from '../observability/metrics.js';
import type { Queue } from '../queue/queue.js';
import type { WebhookTarget } from '../webhooks/webhook-target.js';
import { queueRecorded } from './queue-recorded.js';
import { createRerun, type RerunOptions } from './rerun-job.js';
import { listRuns, type RunFilters } from './run-list.js';

export interface JobServiceDeps {
  readonly jobs: JobsRepo;
  readonly assets: AssetsRepo;
  readonly events: JobEvents;
  readonly queue: Queue;
  /** The queue lane of a job (src/queue/lanes.ts), from its backend. */
  readonly laneOf: (job: Pick<JobRow, 'backend'>) => string;
  readonly registry: ModelRegistry;
  readonly backends: ReadonlyMap<string, BackendInfo>;
  readonly metrics: Metrics;
  readonly maxAttempts: number;
  /** The prompt cache: a hit completes the job at once with copies of an earlier run's assets. */
  readonly cache?: { readonly cache: PromptCache; readonly defaultMode: CacheMode; readonly workspaceTtlMs: number };
  /** Called after a cache hit is recorded (e.g. to score the copied assets). */
  readonly onCompletedFromCache?: (job: JobRow, spec: JobSpec, assets: readonly NewAssetRow[]) => void;
  /** The cost estimate recorded with every job. */
  readonly costOf?: (spec: JobSpec, model: ModelConfig) => unknown;
  /** Gates every job passes before it is recorded, in order (moderation, rate limits). */
  readonly admission?: readonly AdmissionCheck[];
  /** Where a submission's copies go (input images, cache hits); removed again if it is refused. */
  readonly storage?: Storage;
  /** Needed for jobs that take images: resolves references and stores the job's copies. */
  readonly inputs?: { readonly uploads: UploadService; readonly storage: Storage };
  /**
   * Checks a request's `webhook` and `webhook_events` and says what the run records
   * (src/webhooks/webhook-target.ts); without it, a request with a webhook is refused.
   */
  readonly webhookTarget?: (request: GenerationRequest) => Promise<WebhookTarget | undefined>;
  readonly clock?: () => number;
}

/** The four generation routes; image-to-video becomes i2v or ti2v by the model's mode. */
export type GenerationKind = 'text-to-image' | 'image-to-image' | 'text-to-video' | 'image-to-video';

export interface Submitted {
  readonly job: JobRow;
  /** True when an Idempotency-Key matched an earlier identical request. */
  readonly replayed: boolean;
}

/**
 * Accepting, finding and canceling jobs on behalf of a user. A job is recorded before it is
 * queued; if the process dies in between, the runner's start-up re-enqueues it.
 */
export function createJobService(deps: JobServiceDeps) {
  const clock = deps.clock ?? Date.now;

  async function submit(user: UserRow, kind: GenerationKind, request: GenerationRequest, idempotencyKey?: string): Promise<Submitted> {
    const requestHash = createHash('sha256').update(`${kind}\n${canonicalJson(request)}`).digest('hex');
    if (idempotencyKey !== undefined) {
      const earlier = await deps.jobs.findByIdempotencyKey(user.id, idempotencyKey);
      if (earlier) return replay(earlier, requestHash);
    }
    const model = deps.registry.resolve(request.model, 'model', KIND_MODES[kind]);
    const backend = deps.backends.get(model.backend);
    if (!backend) throw new AtelierError('unknown_model', `Model '${model.name}' has no configured backend`, { field: 'model' });
    const mode = modeFor(kind, model.modes);
    const webhook = await webhookOf(request);
    const jobId = randomUUID();
    const prompt = (request.prompt ?? '').trim();
    const negativePrompt = request.negative_prompt?.trim() || undefined;
    const admission = { user, model, request, prompt, negativePrompt };
    const guard = await admit(deps.admission ?? [], admission);
    const images = await resolveImages(user, request);
    const conditioning = await resolveConditioning(user, request);
    const { spec, warnings } = normalizeRequest(mode, request, { model, capabilities: backend.capabilities, randomSeed: () => randomInt(0, MAX_SEED), images, ...(conditioning ? { conditioning } : {}) });
    const cacheKey = deps.cache ? cacheLookupKey(spec, request.cache_mode ?? deps.cache.defaultMode) : undefined;
    const hit = cacheKey ? await deps.cache!.cache.lookup(user.id, cacheKey) : undefined;
    // Bytes are written before the row that owns them (its spec names their keys); every way
    // this submission can end without that row removes them. A crash in between leaves them to
    // the retention sweep, which deletes what no row owns.
    const written: string[] = [];
    try {
      const submitted = await recordJob();
      if (submitted.replayed) await removeKeys(written);
      return submitted;
    } catch (error) {
      await removeKeys(written);
      throw error;
    }

    /** Copies what the job holds, then records it (and queues it, or completes it from the cache). */
    async function recordJob(): Promise<Submitted> {
      // The job keeps its own copies: deleting the upload or asset later cannot starve it.
      const held = await holdInputs(user, jobId, images, written);
      const heldConditioning = conditioning && (await holdConditioningImages(deps.inputs!.storage, user.id, jobId, conditioning, written));
      const finalSpec: JobSpec = Object.freeze({
        ...spec,
        // A cache hit is the earlier run's picture, so the record carries that run's seed.
        ...(hit ? { seed: (JSON.parse(hit.source.spec) as JobSpec).seed } : {}),
        ...(held.reference ? { reference: held.reference } : {}),
        ...(held.start ? { startImage: held.start } : {}),
        ...(held.end ? { endImage: held.end } : {}),
        ...(spec.guidanceImages && heldConditioning ? { guidanceImages: heldConditioning.guidance } : {}),
        ...(spec.controlnet && heldConditioning ? { controlnet: spec.controlnet.map((unit, i) => ({ ...unit, image: heldConditioning.controlnet[i]! })) } : {}),
      });

      const now = clock();
      const totalSteps = spec.numFrames ?? spec.steps * spec.numImages;
      const job: JobRow = {
        id: jobId,
        user_id: user.id,
        mode: spec.mode,
        model: spec.model,
        backend: model.backend,
        status: hit ? 'succeeded' : 'queued',
        prompt: spec.prompt,
        negative_prompt: spec.negativePrompt ?? null,
        spec: JSON.stringify(finalSpec),
        seed: finalSpec.seed,
        width: spec.width,
        height: spec.height,
        steps: spec.steps,
        cfg_scale: spec.cfgScale,
        sampler: spec.sampler,
        num_images: spec.numImages,
        priority: spec.priority,
        progress: hit ? 1 : 0,
        progress_step: hit ? totalSteps : 0,
        progress_total: totalSteps,
        attempts: 0,
        max_attempts: deps.maxAttempts,
        lease_owner: null,
        lease_expires_at: null,
        error_code: null,
        error_message: null,
        idempotency_key: idempotencyKey ?? null,
        request_hash: requestHash,
        warnings: JSON.stringify(warnings),
        created_at: now,
        started_at: hit ? now : null,
        finished_at: hit ? now : null,
        updated_at: now,
        cached: hit ? 1 : 0,
        cached_from: hit?.source.id ?? null,
        cost: deps.costOf ? JSON.stringify(deps.costOf(finalSpec, model)) : null,
        // Its status changes enqueue their deliveries in the same write (migration 0009).
        webhook_url: webhook?.url ?? null,
        webhook_events: webhook?.events ?? null,
      };
      if (hit) return completeFromCache(job, hit, requestHash, guard, written);
      let recorded: LoggedChange;
      try {
        recorded = await deps.jobs.insert(job, guard);
      } catch (error) {
        return replayOnRace(job, requestHash, error);
      }
      // Recorded: from here on the copies are the row's.
      written.length = 0;
      await queueRecorded(deps, job, recorded);
      return { job, replayed: false };
    }
  }

  /** What the run records of the request's webhook; refused when this service delivers none. */
  async function webhookOf(request: GenerationRequest): Promise<WebhookTarget | undefined> {
    if (request.webhook === undefined && request.webhook_events === undefined) return undefined;
    if (!deps.webhookTarget) throw new AtelierError('capability_unsupported', 'This server does not deliver webhooks', { field: 'webhook' });
    return deps.webhookTarget(request);
  }

  async function removeKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const storage = deps.storage ?? deps.inputs?.storage;
    if (!storage) throw new Error('A submission wrote files but the job service has no storage to remove them from');
    await Promise.allSettled(keys.map((key) => storage.delete(key)));
  }

  /**
   * After recording `job` failed with `error`: the replay of the identical request that won the
   * Idempotency-Key race, if that is what happened; otherwise `error` again.
   */
  async function replayOnRace(job: JobRow, requestHash: string, error: unknown): Promise<Submitted> {
    // Two identical requests raced on one Idempotency-Key: the unique index picked one
    // (whatever the error's dialect: SQLite's SQLITE_CONSTRAINT_UNIQUE, PostgreSQL's 23505,
    // where the losing insert waits for the winner's commit, so the winner is readable here).
    const winner = job.idempotency_key === null ? undefined : await deps.jobs.findByIdempotencyKey(job.user_id, job.idempotency_key);
    if (winner) return replay(winner, requestHash);
    throw error;
  }

  /** Records a cache hit as a finished job with its own copies of the earlier run's assets. */
  async function completeFromCache(job: JobRow, hit: CacheHit, requestHash: string, guard: InsertGuard | undefined, written: string[]): Promise<Submitted> {
    const assets = await deps.cache!.cache.materialize(hit, job, deps.cache!.workspaceTtlMs, written);
    try {
      await deps.jobs.insertWithAssets(job, assets, guard);
    } catch (error) {
      return replayOnRace(job, requestHash, error);
    }
    // Recorded: from here on the copies are the row's.
    written.length = 0;
    await deps.events.emit(job, 'queued', {});
    await deps.events.emit(job, 'succeeded', { cached: true, cachedFrom: job.cached_from, assets: assets.map((a) => ({ id: a.id, index: a.asset_index })) });
    deps.metrics.jobsSubmitted.inc({ mode: job.mode, model: job.model });
    deps.metrics.jobsFinished.inc({ status: 'succeeded', model: job.model });
    deps.metrics.jobDuration.observe({ status: 'succeeded', model: job.model }, (clock() - Number(job.created_at)) / 1000);
    deps.onCompletedFromCache?.(job, JSON.parse(job.spec) as JobSpec, assets);
    return { job, replayed: false };
  }

  async function resolveImages(user: UserRow, request: GenerationRequest): Promise<ModeImages> {
    const refs = { reference: request.reference_image, start: request.start_image, end: request.end_image };
    const images: { -readonly [K in keyof ModeImages]: InputImage } = {};
    for (const [role, ref] of Object.entries(refs) as [keyof ModeImages, GenerationRequest['reference_image']][]) {
      if (!ref) continue;
      if (!deps.inputs) throw new AtelierError('capability_unsupported', 'This server does not accept input images', { field: `${role}_image` });
      const { info: _info, ...image } = await deps.inputs.uploads.resolveImage(user, ref, role === 'reference' ? 'reference_image' : `${role}_image`);
      images[role] = image;
    }
    return images;
  }

  async function resolveConditioning(user: UserRow, request: GenerationRequest) {
    if (!request.guidance_images?.length && !request.controlnet?.length) return undefined;
    if (!deps.inputs) throw new AtelierError('capability_unsupported', 'This server does not accept input images', { field: request.guidance_images?.length ? 'guidance_images' : 'controlnet' });
    const { uploads } = deps.inputs;
    return resolveConditioningImages(user, request, async (owner, ref, field) => {
      const { info: _info, ...image } = await uploads.resolveImage(owner, ref, field);
      return image;
    });
  }

  async function holdInputs(user: UserRow, jobId: string, images: ModeImages, written: string[]): Promise<ModeImages> {
    const held: { -readonly [K in keyof ModeImages]: InputImage } = {};
    for (const [role, image] of Object.entries(images) as [keyof ModeImages, InputImage][]) {
      const key = storageKeys.jobInput(user.id, jobId, role, image.format === 'jpeg' ? 'jpg' : image.format);
      written.push(key);
      await deps.inputs!.storage.copy(image.key, key);
      held[role] = { ...image, key };
    }
    return held;
  }

  function replay(earlier: JobRow, requestHash: string): Submitted {
    if (earlier.request_hash !== requestHash) {
      throw new AtelierError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body', { field: 'Idempotency-Key' });
    }
    return { job: earlier, replayed: true };
  }

  /** The job if `user` may see it: its owner, or an admin. Anyone else gets a 404. */
  async function getForUser(user: UserRow, jobId: string): Promise<JobRow> {
    const job = await deps.jobs.findById(jobId);
    if (!job || (job.user_id !== user.id && user.role !== 'admin')) {
      throw new AtelierError('not_found', `No run with id '${jobId}'`, { field: 'runId' });
    }
    return job;
  }

  async function cancel(user: UserRow, jobId: string): Promise<JobRow> {
    const job = await getForUser(user, jobId);
    if (job.status === 'canceled') return job;
    if (isTerminal(job.status)) throw new AtelierError('job_not_cancelable', `The run has already ${job.status}`);
    const now = clock();
    // A queued job ends here; a running one ends when its runner stops, which counts it.
    const wasQueued = await deps.jobs.cancel(job.id, now, ['queued']);
    if (wasQueued || (await deps.jobs.cancel(job.id, now, ['running']))) {
      await deps.queue.cancel(job.id);
      await deps.events.emit(job, 'canceled', {});
      if (wasQueued) {
        deps.metrics.jobsFinished.inc({ status: 'canceled', model: job.model });
        deps.metrics.jobDuration.observe({ status: 'canceled', model: job.model }, (now - Number(job.created_at)) / 1000);
      }
    }
    return getForUser(user, jobId);
  }

  /** Resolves with the job once it is terminal, or rejects after `timeoutMs`. */
  async function waitForTerminal(job: JobRow, timeoutMs: number): Promise<JobRow> {
    let wake: () => void = () => {};
    const unsubscribe = deps.events.subscribe(job.id, (event) => {
      if ((TERMINAL_STATUSES as readonly string[]).includes(event.type)) wake();
    });
    const deadline = clock() + timeoutMs;
    try {
      for (;;) {
        const current = await deps.jobs.findById(job.id);
        if (!current || isTerminal(current.status)) return current ?? job;
        const remaining = deadline - clock();
        if (remaining <= 0) throw new AtelierError('backend_timeout', `The run did not finish within ${Math.round(timeoutMs / 1000)} s; follow it at /api/status/${job.id}`);
        // Wait for the terminal event; re-read at least every second in case it raced us.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(remaining, 1000)).unref();
        });
      }
    } finally {
      unsubscribe();
    }
  }

  const submitTextToImage = (user: UserRow, request: TextToImageRequest, idempotencyKey?: string) => submit(user, 'text-to-image', request, idempotencyKey);

  /**
   * What the prompt cache holds for a request, without submitting it: the key it would use
   * and the run that would serve it. Image references must be uploads or assets.
   */
  async function lookupCache(user: UserRow, kind: GenerationKind, request: GenerationRequest) {
    if (!deps.cache) throw new AtelierError('capability_unsupported', 'The prompt cache is not enabled on this server');
    for (const ref of [request.reference_image, request.start_image, request.end_image]) {
      if (ref && 'url' in ref) throw new AtelierError('invalid_parameter', 'Cache lookups take images as upload_id or asset_id, not url', { field: 'url' });
    }
    if (conditioningHasUrl(request)) throw new AtelierError('invalid_parameter', 'Cache lookups take images as upload_id or asset_id, not url', { field: 'url' });
    const model = deps.registry.resolve(request.model, 'model', KIND_MODES[kind]);
    const backend = deps.backends.get(model.backend)!;
    const images = await resolveImages(user, request);
    const conditioning = await resolveConditioning(user, request);
    const { spec } = normalizeRequest(modeFor(kind, model.modes), request, { model, capabilities: backend.capabilities, randomSeed: () => randomInt(0, MAX_SEED), images, ...(conditioning ? { conditioning } : {}) });
    const mode = request.cache_mode ?? deps.cache.defaultMode;
    const key = cacheLookupKey(spec, mode);
    const hit = key ? await deps.cache.cache.lookup(user.id, key, false) : undefined;
    return { mode, key, hit };
  }

  const rerun = createRerun(deps);

  return {
    submit,
    submitTextToImage,
    lookupCache,
    getForUser,
    cancel,
    waitForTerminal,
    /** A page of a user's runs (every user's when undefined), newest first (src/service/run-list.ts). */
    listRuns: (userId: string | undefined, filters: RunFilters) => listRuns(deps.jobs, userId, filters),
    /** A new run of a run `user` may see, with its recorded seed or `options.seed` (src/service/rerun-job.ts). */
    rerun: async (user: UserRow, jobId: string, options: RerunOptions = {}) => rerun(user, await getForUser(user, jobId), options),
  };
}

export type JobService = ReturnType<typeof createJobService>;

/** The modes a route may run, which pick its default model when a request names none. */
const KIND_MODES: Record<GenerationKind, readonly Mode[]> = {
  'text-to-image': ['t2i'],
  'image-to-image': ['i2i'],
  'text-to-video': ['t2v'],
  'image-to-video': ['i2v', 'ti2v'],
};

function modeFor(kind: GenerationKind, modelModes: readonly Mode[]): Mode {
  switch (kind) {
    case 'text-to-image':
      return 't2i';
    case 'image-to-image':
      return 'i2i';
    case 'text-to-video':
      return 't2v';
    case 'image-to-video':
      // A model that conditions on both frames and text serves the route as ti2v.
      return modelModes.includes('ti2v') ? 'ti2v' : 'i2v';
  }
}

/** JSON with sorted keys, so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
