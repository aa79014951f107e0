import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/build-app.js';
import { AtelierError } from '../errors/atelier-error.js';
import { createBackends } from '../backends/create-backends.js';
import { createDatabase } from '../db/create-db.js';
import { createAssetsRepo } from '../db/repos/assets-repo.js';
import { createJobEventsRepo } from '../db/repos/job-events-repo.js';
import { createJobCountsRepo } from '../db/repos/job-counts-repo.js';
import { createJobsRepo, type JobsRepo } from '../db/repos/jobs-repo.js';
import type { Storage } from '../storage/storage.js';
import { createUsersRepo } from '../db/repos/users-repo.js';
import { createJobEvents, type JobEvents } from '../events/job-events.js';
import type { Backend } from '../backends/backend.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createRunner } from '../runner/job-runner.js';
import { createAttemptPipeline, type AttemptPipelineDeps } from '../runner/attempt-pipeline.js';
import { LOCAL_LANE, laneFor } from '../queue/lanes.js';
import { createWorkerService } from '../remote-workers/worker-service.js';
import { createWorkerTokensRepo } from '../db/repos/worker-tokens-repo.js';
import { createJobService } from '../service/job-service.js';
import { createPromptCache } from '../service/prompt-cache.js';
import { createClipScorer } from '../evaluation/clip/create-clip-scorer.js';
import { createJobEvaluator } from '../evaluation/evaluate-stored-job.js';
import { createEvaluationsRepo } from '../db/repos/evaluations-repo.js';
import { createPromptCacheRepo } from '../db/repos/prompt-cache-repo.js';
import { costOfSpec } from '../service/cost-of-spec.js';
import { createAdmissionChecks } from './create-admission-checks.js';
import { createLibraryService } from '../service/library-service.js';
import { createUploadService } from '../service/upload-service.js';
import { sweepRetention } from '../service/retention.js';
import { startRetentionSweeps, type RetentionSchedule } from '../service/retention-schedule.js';
import { createUploadsRepo } from '../db/repos/uploads-repo.js';
import { createMediaMetrics } from '../media/image/media-metrics.js';
import { createStorage } from './create-storage.js';
import { databaseUrlOf } from './database-url.js';
import { probeNetworkBackends } from './probe-backends.js';
import { logJobLifecycle } from '../observability/job-lifecycle-log.js';
import { countedStorage } from '../storage/counted-storage.js';
import { createEventBus } from './create-event-bus.js';
import { createQueue } from './create-queue.js';
import { checkWatermarks, resolvePresets } from './resolve-presets.js';
import { createSafetyScanner } from '../media/safety/safety-scanner.js';
import { policyForModel } from '../media/safety/safety-policy.js';
import { createUrlSigner } from '../storage/url-signer.js';
import { bootstrapAdmin, type AdminToken } from './bootstrap-admin.js';
import type { Config } from './config-schema.js';
import { randomNodeId, randomSecret, readOrCreateSecret } from './secrets.js';
import { renderRunAt } from '../api/routes/run-view.js';
import { createWebhookDeliveriesRepo } from '../db/repos/webhook-deliveries-repo.js';
import { createWebhookSecretsRepo } from '../db/repos/webhook-secrets-repo.js';
import { postWebhook } from '../webhooks/post-webhook.js';
import { wakeOnWebhookEvents } from '../webhooks/wake-on-status-events.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import { createWebhookMetrics } from '../webhooks/webhook-metrics.js';
import { createWebhookService } from '../webhooks/webhook-service.js';
import { DEFAULT_RETRY_SCHEDULE } from '../webhooks/retry-schedule.js';
import { webhookTarget } from '../webhooks/webhook-target.js';

export interface Server {
  readonly app: FastifyInstance;
  /** The run event stream, for in-process observers (benchmarks, embedding apps). */
  readonly events: JobEvents;
  readonly adminToken: AdminToken;
  readonly config: Config;
  /** The Prometheus registry and counters /metrics serves, for in-process observers. */
  readonly metrics: Metrics;
  /**
   * Starts the runner, the worker service and the retention sweeps without opening a socket:
   * enough for `app.inject()`. Idempotent; `listen()` calls it.
   */
  start(): Promise<void>;
  /** Starts (see `start`) and listens; resolves with the address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

// Soon after start (expired items should not wait a whole interval), but out of start-up's way.
const FIRST_SWEEP_DELAY_MS = 5_000;

const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * The composition root: wires every port to its adapter from configuration. This is the
 * only place that knows which adapters exist.
 */
export interface CreateServerOptions {
  readonly logger?: FastifyInstance['log'];
  /** Extra backend instances by name, beside the configured ones (embedding, benchmarks). */
  readonly backends?: ReadonlyMap<string, Backend>;
  /**
   * TESTS ONLY: exact `ip:port` destinations URL sources may reach despite being private.
   * Deliberately not configurable from the environment or the config file.
   */
  readonly unsafeAllowUrlDestinations?: readonly string[];
  /**
   * TESTS ONLY: wraps the storage and the job records every part of the server uses, to
   * inject faults at each write. Deliberately not configurable from the environment.
   */
  readonly wrap?: { readonly storage?: (storage: Storage) => Storage; readonly jobs?: (jobs: JobsRepo) => JobsRepo };
}

export async function createServer(config: Config, options: CreateServerOptions = {}): Promise<Server> {
  const { logger } = options;
  const dataDir = resolve(config.dataDir);
  // Before anything is opened: a preset that cannot be delivered stops the start-up here.
  const presets = resolvePresets(config);
  await checkWatermarks(presets.all);
  const metrics = createMetrics();
  const database = await createDatabase(databaseUrlOf(config), { onStatement: () => metrics.dbStatements.inc() });
  const { db } = database;

  const signingSecret = config.signingSecret ?? readOrCreateSecret(join(dataDir, 'signing-secret'), randomSecret).value;
  const signer = createUrlSigner(signingSecret);
  const storageHandle = await createStorage(config, signer, { onFsync: () => metrics.storageFsyncs.inc() });
  const counted = countedStorage(storageHandle.storage, (op) => metrics.storageRequests.inc({ op }));
  const storage = options.wrap?.storage?.(counted) ?? counted;

  // Stable across restarts: the owner of this node's leases, which a restart takes back.
  const nodeId = config.nodeId ?? readOrCreateSecret(join(dataDir, 'node-id'), randomNodeId).value;
  const { backends, runnable, registry } = createBackends(config, options.backends);
  // Jobs of `remote` backends go to lane remote:<name> for workers; the rest run in-process.
  const remoteBackends = Object.entries(config.backends).filter(([, settings]) => settings.type === 'remote').map(([name]) => name);
  // Embedded queue and in-process bus by default; REDIS_URL moves both to Redis (every node shares them).
  const queueHandle = await createQueue(config, database, logger);
  const { queue } = queueHandle;
  const laneOf = (job: { readonly backend: string }) => laneFor(job.backend, config.backends[job.backend]?.type);
  const bus = await createEventBus(config, logger);
  const jobs = options.wrap?.jobs?.(createJobsRepo(db)) ?? createJobsRepo(db);
  const assets = createAssetsRepo(db);
  const users = createUsersRepo(db);
  // Each run's lifecycle (queued, started, finished with its outcome and duration) at info.
  // A status change of a run with a webhook wakes this node's dispatcher (declared below).
  const events = wakeOnWebhookEvents(logJobLifecycle(createJobEvents(createJobEventsRepo(db), bus), logger ?? silentLogger), () => webhookDispatcher.wake());
  metrics.watchQueue(queue);
  const mediaMetrics = createMediaMetrics(metrics.registry);
  const uploadsRepo = createUploadsRepo(db);
  const uploads = createUploadService({
    uploads: uploadsRepo,
    assets,
    storage,
    signer,
    limits: config.uploads,
    ...(options.unsafeAllowUrlDestinations ? { urlFetch: { timeoutMs: 15_000, unsafeAllowDestinations: options.unsafeAllowUrlDestinations } } : {}),
  });
  const library = createLibraryService(assets, storage);
  const promptCache = createPromptCache(
    { repo: createPromptCacheRepo(db), jobs, assets, storage, registry: metrics.registry },
    {
      ttlMs: config.cache.ttlDays * 86_400_000,
      scope: config.cache.scope,
      // A hit hands out only what a fresh run would under today's policy (a tightened one included).
      safetyPolicyFor: (model) => policyForModel(config.safety, registry.resolve(model).safety),
    },
  );
  const log: Logger = logger ?? silentLogger;
  const evaluations = createEvaluationsRepo(db);
  const clip = await createClipScorer(config.evaluation.clip);
  const evaluateJob = createJobEvaluator({
    storage,
    evaluations,
    ...(clip ? { clip } : {}),
    warn: (failure) => log.warn({ jobId: failure.jobId, metric: failure.metric, err: failure.error }, 'evaluation metric failed'),
    now: Date.now,
  });
  const jobService = createJobService({
    jobs,
    assets,
    events,
    queue,
    laneOf,
    registry,
    backends,
    metrics,
    maxAttempts: config.runner.maxAttempts,
    storage,
    inputs: { uploads, storage },
    cache: { cache: promptCache, defaultMode: config.cache.defaultMode, workspaceTtlMs: config.media.workspaceTtlHours * 3600_000 },
    costOf: costOfSpec,
    // A cached copy gets its own scores (its source's may not exist yet).
    onCompletedFromCache: (job, spec, assets) => void evaluateJob(job, spec, assets).catch((error: unknown) => log.warn({ jobId: job.id, err: error }, 'evaluation failed')),
    admission: createAdmissionChecks(config, createJobCountsRepo(db), metrics, log),
    webhookTarget: (request) => webhookTarget(request, { allowPrivate: config.webhooks.allowPrivate }),
  });

  const webhookDeliveries = createWebhookDeliveriesRepo(db);
  const webhooks = createWebhookService({ secrets: createWebhookSecretsRepo(db), deliveries: webhookDeliveries });
  // Links in a delivery's body point where clients reach this server: PUBLIC_URL, else the address it listens on.
  let listenOrigin: string | undefined;
  const viewOrigin = () => config.publicUrl?.replace(/\/$/, '') ?? listenOrigin ?? `http://${config.host}:${config.port}`;
  const webhookDispatcher: WebhookDispatcher = createWebhookDispatcher(
    {
      deliveries: webhookDeliveries,
      renderRun: async (jobId) => {
        const job = await jobs.findById(jobId);
        return job && renderRunAt({ assets, evaluations, storage, backends, config }, viewOrigin(), job);
      },
      secretFor: webhooks.secretFor,
      post: (post) => postWebhook(post, { timeoutMs: config.webhooks.timeoutSeconds * 1000, allowPrivate: config.webhooks.allowPrivate }),
      metrics: createWebhookMetrics(metrics.registry),
      logger: log,
    },
    {
      nodeId,
      attemptTimeoutMs: config.webhooks.timeoutSeconds * 1000,
      pollMs: config.webhooks.pollSeconds * 1000,
      schedule: { ...DEFAULT_RETRY_SCHEDULE, firstDelayMs: config.webhooks.retryDelaySeconds * 1000, giveUpAfterMs: config.webhooks.retryHours * 3_600_000 },
    },
  );

  // The classifier (nsfwjs's model, or the external checker) is reached on the first output scanned.
  const safety = createSafetyScanner(config.safety, metrics.registry);
  const media: AttemptPipelineDeps['media'] = {
    presetFor: (model) => presets.forModel(registry.resolve(model)),
    metrics: mediaMetrics,
    safetyFor: (model) => safety.forModel(registry.resolve(model).safety),
  };
  // After a committed success, in-process or by a remote worker alike.
  const onSucceeded: AttemptPipelineDeps['onSucceeded'] = async (job, spec, written, outputs) => {
    await promptCache.record(job, spec);
    // Scores are extras: computed off the runner's path so the next job is not kept waiting,
    // from the pixels still in memory (the stored original differs only by its text chunk).
    const held = new Map(outputs.flatMap((o) => (o.kind === 'image' ? [[o.index, o.data] as const] : [])));
    void evaluateJob(job, spec, written, held).catch((error: unknown) => log.warn({ jobId: job.id, err: error }, 'evaluation failed'));
  };
  const pipeline = createAttemptPipeline({
    queue,
    jobs,
    events,
    storage,
    registry,
    metrics,
    logger: log,
    media,
    onSucceeded,
    workspaceTtlMs: config.media.workspaceTtlHours * 3600_000,
  });
  const runner = createRunner(
    { queue, jobs, events, storage, backends: runnable, pipeline, metrics, logger: log, laneOf },
    {
      workerId: nodeId,
      concurrency: config.runner.concurrency,
      leaseMs: config.runner.leaseSeconds * 1000,
      pollMs: 1000,
      lanes: LOCAL_LANE,
    },
  );
  const workers = createWorkerService(
    {
      queue,
      jobs,
      events,
      bus,
      storage,
      tokens: createWorkerTokensRepo(db),
      pipeline,
      remoteBackends,
      metrics,
      logger: log,
      ...(storageHandle.servesMedia ? { uploadSigner: signer } : {}),
    },
    { leaseMs: config.runner.leaseSeconds * 1000, tokenCacheMs: config.workerTokenCacheSeconds * 1000 },
  );
  const adminToken = await bootstrapAdmin(users, dataDir, config.adminToken);
  const app = await buildApp(
    {
      config,
      jobService,
      uploads,
      library,
      assets,
      evaluations,
      users,
      events,
      storage,
      mediaSigner: storageHandle.servesMedia ? signer : undefined,
      workers: { workers, backends, remoteBackends, publicUrl: config.publicUrl, leaseSeconds: config.runner.leaseSeconds },
      registry,
      backends,
      metrics,
      webhooks,
      ping: async () => {
        await database.ping().catch((error: unknown) => {
          throw new AtelierError('not_ready', 'The database does not answer', { cause: error });
        });
        await queueHandle.ping?.().catch((error: unknown) => {
          throw new AtelierError('not_ready', 'The queue (Redis) does not answer', { cause: error });
        });
      },
    },
    { logger: logger ?? false },
  );

  const retention = { assets, uploads: uploadsRepo, jobs, storage, retentionDays: config.retention.days, orphanGraceMs: config.retention.orphanGraceHours * 3600_000, metrics, logger: log };
  let sweeps: RetentionSchedule | undefined;
  let started: Promise<void> | undefined;
  // The start-up check of the network backends: logged, never awaited by the start.
  const probing = new AbortController();
  let startupProbe: Promise<void> | undefined;

  async function start(): Promise<void> {
    await runner.start();
    workers.start();
    await webhookDispatcher.start();
    startupProbe = probeNetworkBackends(runnable, config, log, probing.signal);
    sweeps = startRetentionSweeps({
      intervalMs: config.retention.sweepIntervalMinutes * 60_000,
      firstDelayMs: FIRST_SWEEP_DELAY_MS,
      sweep: () => sweepRetention(retention, { now: Date.now() }),
      logger: log,
    });
  }

  return {
    app,
    events,
    adminToken,
    config,
    metrics,
    start() {
      started ??= start();
      return started;
    },
    async listen() {
      started ??= start();
      await started;
      listenOrigin = await app.listen({ host: config.host, port: config.port });
      return listenOrigin;
    },
    async close() {
      probing.abort();
      // First: ends the workers' long polls, which app.close() would otherwise wait for.
      await workers.stop();
      await app.close();
      await startupProbe;
      // Before the database closes: a sweep in progress finishes first.
      await sweeps?.stop();
      await runner.stop(10_000);
      await pipeline.settle();
      // After the runner: the deliveries its last runs enqueued are sent by the next start.
      await webhookDispatcher.stop();
      await queue.close();
      await bus.close();
      await database.close();
      storageHandle.close();
      await clip?.close();
    },
  };
}
