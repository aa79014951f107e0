import { createQueueEntriesRepo } from '../../src/db/repos/queue-entries-repo.js';
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, BackendCapabilities, GenerateContext, GeneratedImage } from '../../src/backends/backend.js';
import { ModelRegistry } from '../../src/backends/model-registry.js';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { createAssetsRepo } from '../../src/db/repos/assets-repo.js';
import { createJobEventsRepo } from '../../src/db/repos/job-events-repo.js';
import { createJobsRepo } from '../../src/db/repos/jobs-repo.js';
import { createUsersRepo } from '../../src/db/repos/users-repo.js';
import type { JobRow, UserRow } from '../../src/db/schema.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { RetryableError, UnrecoverableError } from '../../src/errors/signals.js';
import type { JobEvent } from '../../src/events/event-bus.js';
import { createInProcessEventBus } from '../../src/events/in-process/in-process-event-bus.js';
import { createJobEvents } from '../../src/events/job-events.js';
import type { JobSpec } from '../../src/jobs/job-spec.js';
import type { Logger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createEmbeddedQueue } from '../../src/queue/embedded/embedded-queue.js';
import type { ExpiredLease, Queue } from '../../src/queue/queue.js';
import { createAttemptPipeline } from '../../src/runner/attempt-pipeline.js';
import { LOCAL_LANE } from '../../src/queue/lanes.js';
import { createRunner, type Runner } from '../../src/runner/job-runner.js';
import { createJobService } from '../../src/service/job-service.js';
import { createDiskStorage } from '../../src/storage/disk/disk-storage.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const CAPABILITIES: BackendCapabilities = {
  modes: ['t2i'],
  samplers: ['Euler'],
  maxWidth: 1024,
  maxHeight: 1024,
  maxSteps: 150,
  maxBatch: 4,
  cancel: true,
  preview: false,
  hiresFix: false,
};

async function pngOf(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toBuffer();
}

async function imagesFor(spec: JobSpec): Promise<GeneratedImage[]> {
  const data = await pngOf(spec.width, spec.height);
  return Array.from({ length: spec.numImages }, (_, index) => ({ kind: 'image' as const, index, seed: spec.seed + index, width: spec.width, height: spec.height, data }));
}

interface Call {
  readonly attempt: number;
  readonly startedAt: number;
  readonly signal: AbortSignal;
}

/** A backend whose every call runs `behaviour`; records the calls. */
function fakeBackend(behaviour: (spec: JobSpec, ctx: GenerateContext, call: number) => Promise<GeneratedImage[]>) {
  const calls: Call[] = [];
  const backend: Backend = {
    kind: 'fake',
    label: 'Fake backend',
    capabilities: CAPABILITIES,
    async generate(spec, ctx) {
      calls.push({ attempt: calls.length + 1, startedAt: Date.now(), signal: ctx.signal });
      return behaviour(spec, ctx, calls.length);
    },
  };
  return { backend, calls };
}

interface Harness {
  readonly dir: string;
  readonly mediaRoot: string;
  readonly handle: DatabaseHandle;
  readonly queue: Queue;
  readonly runner: Runner;
  readonly pipeline: ReturnType<typeof createAttemptPipeline>;
  readonly user: UserRow;
  readonly jobs: ReturnType<typeof createJobsRepo>;
  readonly assets: ReturnType<typeof createAssetsRepo>;
  readonly events: ReturnType<typeof createJobEvents>;
  readonly service: ReturnType<typeof createJobService>;
  readonly logged: { level: string; obj: object; msg?: string }[];
  submit(request?: Partial<{ steps: number; num_images: number; seed: number }>): Promise<JobRow>;
  job(id: string): Promise<JobRow>;
  eventsOf(id: string): Promise<JobEvent[]>;
  waitForTerminal(id: string, timeoutMs?: number): Promise<JobRow>;
  mediaFiles(): Promise<string[]>;
}

const harnesses: { close: () => Promise<void> }[] = [];

afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function setup(
  backend: Backend,
  options: {
    maxAttempts?: number;
    backoffBaseMs?: number;
    backoffMaxMs?: number;
    leaseMs?: number;
    startRunner?: boolean;
    clock?: () => number;
    /** Wraps the queue the job service enqueues through (to make an enqueue fail). */
    serviceQueue?: (queue: Queue) => Queue;
    /** Wraps the queue the runner and the attempt pipeline use (to hold a completion). */
    runnerQueue?: (queue: Queue) => Queue;
  } = {},
): Promise<Harness> {
  const tmp = await makeTempDir('atelier-runner-');
  const handle = await createDatabase(`sqlite:${join(tmp.dir, 'atelier.db')}`);
  const { db } = handle;
  const queue = createEmbeddedQueue(createQueueEntriesRepo(db), { backoffBaseMs: options.backoffBaseMs ?? 20, backoffMaxMs: options.backoffMaxMs ?? 10_000 });
  const bus = createInProcessEventBus();
  const jobs = createJobsRepo(db);
  const assets = createAssetsRepo(db);
  const events = createJobEvents(createJobEventsRepo(db), bus);
  const mediaRoot = join(tmp.dir, 'media');
  const storage = createDiskStorage({ root: mediaRoot, signer: createUrlSigner('runner-test-secret') });
  const metrics = createMetrics();
  const registry = new ModelRegistry([
    { name: 'fake-model', backend: 'fake', label: 'Fake model', modes: ['t2i'], baseResolution: 64, defaultSteps: 2, defaultCfgScale: 7, defaultSampler: 'Euler', default: true },
  ]);
  const backends = new Map([['fake', backend]]);
  const logged: Harness['logged'] = [];
  const logger: Logger = {
    info: (obj, msg) => logged.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logged.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logged.push({ level: 'error', obj, msg }),
    debug: () => {},
  };
  const laneOf = () => LOCAL_LANE;
  const service = createJobService({ jobs, assets, events, queue: options.serviceQueue?.(queue) ?? queue, laneOf, registry, backends, metrics, maxAttempts: options.maxAttempts ?? 3 });
  const runnerQueue = options.runnerQueue?.(queue) ?? queue;
  const pipeline = createAttemptPipeline({ queue: runnerQueue, jobs, events, storage, registry, metrics, logger, workspaceTtlMs: 3600_000, ...(options.clock ? { clock: options.clock } : {}) });
  const runner = createRunner(
    { queue: runnerQueue, jobs, events, storage, backends, pipeline, metrics, logger, laneOf },
    { workerId: 'test-runner', concurrency: 1, leaseMs: options.leaseMs ?? 2000, pollMs: 50, ...(options.clock ? { clock: options.clock } : {}) },
  );
  const user = await createUsersRepo(db).create('u', 'user', Date.now());
  if (options.startRunner !== false) await runner.start();

  harnesses.push({
    async close() {
      await runner.stop(2000);
      await pipeline.settle();
      await queue.close();
      await bus.close();
      await handle.close();
      await tmp.remove();
    },
  });

  const h: Harness = {
    dir: tmp.dir,
    mediaRoot,
    handle,
    queue,
    runner,
    pipeline,
    user,
    jobs,
    assets,
    events,
    service,
    logged,
    async submit(request = {}) {
      const { job } = await service.submitTextToImage(user, { prompt: 'x', width: 64, height: 64, steps: 2, seed: 1, ...request });
      return job;
    },
    async job(id) {
      const job = await jobs.findById(id);
      if (!job) throw new Error(`no job ${id}`);
      return job;
    },
    eventsOf: (id) => events.replay(id, user.id, 0),
    waitForTerminal: (id, timeoutMs = 5000) =>
      waitFor(`job ${id} to finish`, async () => {
        const job = await h.job(id);
        return ['succeeded', 'failed', 'canceled'].includes(job.status) ? job : undefined;
      }, timeoutMs),
    async mediaFiles() {
      if (!existsSync(mediaRoot)) return [];
      const entries = await readdir(mediaRoot, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    },
  };
  return h;
}

const queueRows = (h: Harness) => h.handle.db.selectFrom('queue_entries').selectAll().execute();

/**
 * Waits until nothing more can happen: the runner runs nothing and the queue holds no entry
 * (waiting, delayed or leased). A retry that should not exist keeps the queue non-empty, so
 * "nothing else happens" checks fail on it instead of depending on how long a sleep lasts.
 */
async function drained(h: Harness): Promise<void> {
  await waitFor('the queue to drain and the runner to be idle', async () => h.runner.activeJobs === 0 && (await queueRows(h)).length === 0);
}

describe('job runner', () => {
  it('re-enqueues a job whose enqueue failed once it has sat queued for a minute', async () => {
    let now = Date.now();
    let failNext = true;
    const { backend } = fakeBackend(async (spec) => imagesFor(spec));
    const h = await setup(backend, {
      clock: () => now,
      // The queue is unreachable for the one enqueue: the record exists, the entry does not.
      serviceQueue: (queue) => ({
        ...queue,
        async enqueue(jobId, options) {
          if (failNext) {
            failNext = false;
            throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
          }
          return queue.enqueue(jobId, options);
        },
      }),
    });
    await expect(h.submit()).rejects.toThrow(/ECONNREFUSED/);
    const [stranded] = await h.jobs.listActive();
    expect(stranded?.status).toBe('queued');
    expect(await queueRows(h)).toEqual([]);
    await sleep(200);
    expect((await h.job(stranded!.id)).status).toBe('queued');

    now += 61_000;
    const job = await h.waitForTerminal(stranded!.id);
    expect(job.status).toBe('succeeded');
  });

  it('runs a job to success: assets recorded, files written, events in order', async () => {
    const { backend, calls } = fakeBackend(async (spec) => imagesFor(spec));
    const h = await setup(backend);
    const submitted = await h.submit({ num_images: 2 });
    const job = await h.waitForTerminal(submitted.id);

    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(1);
    expect(job.progress).toBe(1);
    expect(job.finished_at).not.toBeNull();
    expect(calls).toHaveLength(1);
    const assets = await h.assets.listForJob(job.id);
    expect(assets.map((a) => a.asset_index)).toEqual([0, 1]);
    for (const asset of assets) {
      expect(asset.storage_key).toBe(`workspace-temp/${h.user.id}/${job.id}/${asset.asset_index}.png`);
      const meta = await sharp(join(h.mediaRoot, asset.storage_key)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 64]);
      expect((await sharp(join(h.mediaRoot, asset.thumbnail_key!)).metadata()).format).toBe('webp');
    }
    // Per image: original, thumbnail and the two delivery variants.
    expect((await h.mediaFiles()).filter((f) => !f.includes('.tmp'))).toHaveLength(8);
    expect((await h.eventsOf(job.id)).map((e) => e.type)).toEqual(['queued', 'running', 'succeeded']);
    expect(await queueRows(h)).toEqual([]);
  });

  it('answers a commit once the record is final; the queue entry goes after, and settle() waits for it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let completing = 0;
    const { backend } = fakeBackend((spec) => imagesFor(spec));
    const h = await setup(backend, {
      runnerQueue: (inner) => ({
        ...inner,
        async complete(lease) {
          completing++;
          await held;
          return inner.complete(lease);
        },
      }),
    });
    const job = await h.submit();
    expect((await h.waitForTerminal(job.id)).status).toBe('succeeded');
    await waitFor('the queue entry removal to start', async () => completing > 0);
    expect(await queueRows(h)).toHaveLength(1);
    let settled = false;
    const settling = h.pipeline.settle().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    release();
    await settling;
    expect(await queueRows(h)).toHaveLength(0);
  });

  it('retries a backend that throws a plain Error twice, then succeeds on attempt 3', async () => {
    const { backend, calls } = fakeBackend(async (spec, _ctx, call) => {
      if (call <= 2) throw new Error(`flaky ${call}`);
      return imagesFor(spec);
    });
    const h = await setup(backend, { maxAttempts: 3 });
    const submitted = await h.submit();
    const job = await h.waitForTerminal(submitted.id);

    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(3);
    expect(calls).toHaveLength(3);
    // A success clears the error left by the failed attempts.
    expect([job.error_code, job.error_message]).toEqual([null, null]);
    expect(await h.assets.listForJob(job.id)).toHaveLength(1);

    const events = await h.eventsOf(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'retrying', 'running', 'succeeded']);
    const retrying = events.filter((e) => e.type === 'retrying');
    expect(retrying.map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(retrying.map((e) => (e.data.error as { message: string }).message)).toEqual(['flaky 1', 'flaky 2']);
    expect(retrying.map((e) => (e.data.error as { code: string }).code)).toEqual(['job_failed', 'job_failed']);
    expect(events.filter((e) => e.type === 'running').map((e) => e.data.attempt)).toEqual([1, 2, 3]);
    // The durable log (job_events) is what replay reads: check the table directly too.
    const rows = await h.handle.db.selectFrom('job_events').select(['seq', 'type']).where('job_id', '=', job.id).orderBy('seq').execute();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rows.filter((r) => r.type === 'retrying')).toHaveLength(2);
  });

  it('fails at once on UnrecoverableError, with its code and message', async () => {
    const { backend, calls } = fakeBackend(async () => {
      throw new UnrecoverableError('The input image is corrupt', 'capability_unsupported');
    });
    const h = await setup(backend, { maxAttempts: 5 });
    const submitted = await h.submit();
    const job = await h.waitForTerminal(submitted.id);
    await drained(h); // no retry may follow

    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(calls).toHaveLength(1);
    expect(job.error_code).toBe('capability_unsupported');
    expect(job.error_message).toBe('The input image is corrupt');
    const events = await h.eventsOf(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'failed']);
    expect(events.at(-1)!.data.error).toEqual({ code: 'capability_unsupported', message: 'The input image is corrupt', retryable: false });
    expect(await h.assets.listForJob(job.id)).toEqual([]);
    expect(await queueRows(h)).toEqual([]);
  });


  it('fails at once, without retrying, when the backend returns more outputs than the job asked for', async () => {
    // A workflow with two save nodes renders two images per prompt on every attempt.
    const { backend, calls } = fakeBackend(async (spec) => imagesFor({ ...spec, numImages: spec.numImages + 1 }));
    const h = await setup(backend, { maxAttempts: 5 });
    const job = await h.waitForTerminal((await h.submit({ num_images: 1 })).id);
    await drained(h);

    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(calls).toHaveLength(1);
    expect(job.error_code).toBe('backend_failed');
    expect(job.error_message).toMatch(/returned 2 outputs where the job asked for 1/);
    expect(await h.assets.listForJob(job.id)).toEqual([]);
  });
  it('does not retry client errors (4xx AtelierError) but does retry RetryableError and 5xx ones', async () => {
    const { backend, calls } = fakeBackend(async (spec, _ctx, call) => {
      if (call === 1) throw new RetryableError('backend is down', 'backend_failed');
      if (call === 2) throw new AtelierError('backend_timeout', 'too slow');
      if (call === 3) throw new AtelierError('invalid_parameter', 'width is odd');
      return imagesFor(spec);
    });
    const h = await setup(backend, { maxAttempts: 5 });
    const job = await h.waitForTerminal((await h.submit()).id);
    expect(calls).toHaveLength(3);
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(3);
    expect([job.error_code, job.error_message]).toEqual(['invalid_parameter', 'width is odd']);
    const retrying = (await h.eventsOf(job.id)).filter((e) => e.type === 'retrying');
    expect(retrying.map((e) => (e.data.error as { code: string }).code)).toEqual(['backend_failed', 'backend_timeout']);
  });

  it('fails with the LAST error after maxAttempts', async () => {
    const { backend, calls } = fakeBackend(async (_spec, _ctx, call) => {
      throw new Error(`attempt ${call} exploded`);
    });
    const h = await setup(backend, { maxAttempts: 2 });
    const submitted = await h.submit();
    expect(submitted.max_attempts).toBe(2);
    const job = await h.waitForTerminal(submitted.id);
    await drained(h);

    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(2);
    expect(calls).toHaveLength(2);
    expect(job.error_code).toBe('job_failed');
    expect(job.error_message).toBe('attempt 2 exploded');
    const events = await h.eventsOf(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'failed']);
    expect((events.at(-1)!.data.error as { message: string }).message).toBe('attempt 2 exploded');
    expect(await queueRows(h)).toEqual([]);
    expect(await h.assets.listForJob(job.id)).toEqual([]);
  });

  it('backs off exponentially: each retry waits twice as long as the one before', async () => {
    const failedAt: number[] = [];
    const { backend, calls } = fakeBackend(async () => {
      failedAt.push(Date.now());
      throw new Error('nope');
    });
    const h = await setup(backend, { maxAttempts: 4, backoffBaseMs: 50, backoffMaxMs: 10_000 });
    const job = await h.waitForTerminal((await h.submit()).id);
    expect(job.status).toBe('failed');
    expect(calls).toHaveLength(4);

    const retrying = (await h.eventsOf(job.id)).filter((e) => e.type === 'retrying');
    expect(retrying).toHaveLength(3);
    const retryAt = retrying.map((e) => Date.parse(e.data.retryAt as string));
    // retryAt = (time of the failure) + base * 2^(attempt-1)
    const delays = retryAt.map((at, i) => at - failedAt[i]!);
    const expected = [50, 100, 200];
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(expected[i]!);
      // Generous for a loaded machine, yet below the next power of two's lower bound.
      expect(delay).toBeLessThan(expected[i]! * 1.5);
    });
    // No retry starts before its retryAt.
    for (let i = 0; i < 3; i++) expect(calls[i + 1]!.startedAt).toBeGreaterThanOrEqual(retryAt[i]!);
  });

  it('caps the backoff at backoffMaxMs', async () => {
    const failedAt: number[] = [];
    const { backend } = fakeBackend(async () => {
      failedAt.push(Date.now());
      throw new Error('nope');
    });
    const h = await setup(backend, { maxAttempts: 4, backoffBaseMs: 40, backoffMaxMs: 60 });
    const job = await h.waitForTerminal((await h.submit()).id);
    const retrying = (await h.eventsOf(job.id)).filter((e) => e.type === 'retrying');
    const delays = retrying.map((e, i) => Date.parse(e.data.retryAt as string) - failedAt[i]!);
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeGreaterThanOrEqual(40);
    expect(delays[0]).toBeLessThan(60);
    for (const d of delays.slice(1)) {
      expect(d).toBeGreaterThanOrEqual(60);
      expect(d).toBeLessThan(100);
    }
  });

  it('recovers a job whose worker stopped heartbeating once the lease expires', async () => {
    const { backend, calls } = fakeBackend(async (spec) => imagesFor(spec));
    const h = await setup(backend, { startRunner: false, leaseMs: 400, backoffBaseMs: 20 });
    const submitted = await h.submit();
    // A worker that claims the job, marks it running, and then dies (never heartbeats).
    const ghost = await h.queue.claim('ghost-worker', 200);
    expect(ghost?.jobId).toBe(submitted.id);
    expect(await h.jobs.markRunning(submitted.id, ghost!.attempt, 'ghost-worker', ghost!.expiresAt, Date.now())).toBeDefined();
    expect((await h.job(submitted.id)).status).toBe('running');

    await h.runner.start();
    const job = await h.waitForTerminal(submitted.id, 8000);

    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(2);
    expect(calls).toHaveLength(1);
    expect(await h.assets.listForJob(job.id)).toHaveLength(1);
    const events = await h.eventsOf(job.id);
    // The ghost's start is logged with it, as every start is.
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'succeeded']);
    expect((events[2]!.data.error as { code: string }).code).toBe('lease_expired');
    expect(events[3]!.data.attempt).toBe(2);
    // The ghost's lease is dead: it can no longer complete or fail the job.
    expect(await h.queue.complete(ghost!)).toBe(false);
  });

  it('an expired lease reported after the next attempt began leaves that attempt running (the report came late)', async () => {
    // BullMQ's stalled checker settles an expired lease at once but reports it at the finding
    // node's next recoverExpired; by then another node may have claimed attempt 2.
    const late: ExpiredLease[] = [];
    const { backend } = fakeBackend(async (spec) => imagesFor(spec));
    const h = await setup(backend, { startRunner: false, backoffBaseMs: 10, runnerQueue: (queue) => ({ ...queue, recoverExpired: async () => late.splice(0) }) });
    const submitted = await h.submit();
    const first = await h.queue.claim('dead-node', 50);
    expect(await h.pipeline.begin(first!, 'dead-node')).toBeDefined();
    await sleep(80);
    late.push(...(await h.queue.recoverExpired()));
    expect(late).toMatchObject([{ jobId: submitted.id, outcome: { kind: 'retry', attempt: 1 } }]);
    await sleep(30);
    const second = await h.queue.claim('live-node', 5000);
    const attempt = await h.pipeline.begin(second!, 'live-node');
    expect(attempt?.lease.attempt).toBe(2);

    await h.pipeline.recoverExpired();

    expect(await h.job(submitted.id)).toMatchObject({ status: 'running', attempts: 2, lease_owner: 'live-node' });
    expect(await h.pipeline.commit(attempt!, await imagesFor(attempt!.spec))).toMatchObject({ kind: 'succeeded' });
    expect((await h.job(submitted.id)).status).toBe('succeeded');
  });

  it('runs a recorded job whose queue entry was lost (crash between insert and enqueue)', async () => {
    const { backend, calls } = fakeBackend(async (spec) => imagesFor(spec));
    const h = await setup(backend, { startRunner: false });
    const submitted = await h.submit();
    expect(await h.queue.cancel(submitted.id)).toBe(true); // the entry is gone, the record stays queued
    await h.runner.start();
    const job = await h.waitForTerminal(submitted.id);
    expect(job.status).toBe('succeeded');
    expect(calls).toHaveLength(1);
  });

  it('cancel while running aborts the backend signal; no assets, no files, no retry', async () => {
    let started!: () => void;
    const isRunning = new Promise<void>((r) => (started = r));
    const { backend, calls } = fakeBackend(async (_spec, ctx) => {
      ctx.onProgress({ step: 1, totalSteps: 2 });
      started();
      // Hangs until aborted, like a well-behaved backend.
      return new Promise<GeneratedImage[]>((_, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      });
    });
    const h = await setup(backend, { maxAttempts: 3 });
    const submitted = await h.submit();
    await isRunning;
    await waitFor('job to be running', async () => (await h.job(submitted.id)).status === 'running');

    const afterCancel = await h.service.cancel(h.user, submitted.id);
    expect(afterCancel.status).toBe('canceled');
    await drained(h);

    expect(calls).toHaveLength(1);
    expect(calls[0]!.signal.aborted).toBe(true);
    const job = await h.job(submitted.id);
    expect(job.status).toBe('canceled');
    expect(job.error_code).toBe('job_canceled');
    expect(await h.assets.listForJob(job.id)).toEqual([]);
    expect((await h.mediaFiles()).filter((f) => !f.includes('.tmp'))).toEqual([]);
    expect(await queueRows(h)).toEqual([]);
    const types = (await h.eventsOf(job.id)).map((e) => e.type);
    expect(types.at(-1)).toBe('canceled');
    expect(types).not.toContain('retrying');
    expect(types).not.toContain('failed');
    expect(types).not.toContain('succeeded');
  });

  it('cancel while running discards the outputs of a backend that ignores the signal', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { backend, calls } = fakeBackend(async (spec) => {
      await gate; // ignores ctx.signal entirely
      return imagesFor(spec);
    });
    const h = await setup(backend);
    const submitted = await h.submit({ num_images: 2 });
    await waitFor('backend call', async () => calls.length === 1);
    await h.service.cancel(h.user, submitted.id);
    release();
    await drained(h);

    const job = await h.job(submitted.id);
    expect(job.status).toBe('canceled');
    expect(await h.assets.listForJob(job.id)).toEqual([]);
    expect((await h.mediaFiles()).filter((f) => !f.includes('.tmp'))).toEqual([]);
    expect((await h.eventsOf(job.id)).map((e) => e.type)).not.toContain('succeeded');
  });

  it('a job canceled while queued never reaches the backend', async () => {
    const { backend, calls } = fakeBackend(async (spec) => imagesFor(spec));
    const h = await setup(backend, { startRunner: false });
    const submitted = await h.submit();
    await h.service.cancel(h.user, submitted.id);
    await h.runner.start();
    await drained(h);
    expect(calls).toHaveLength(0);
    expect((await h.job(submitted.id)).status).toBe('canceled');
  });

  it('records progress on the job row and one progress event per reported step', async () => {
    const STEPS = 5;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { backend } = fakeBackend(async (spec, ctx) => {
      for (let step = 1; step <= STEPS; step++) {
        ctx.onProgress({ step, totalSteps: STEPS });
        if (step === 3) await gate;
        else await sleep(5);
      }
      return imagesFor(spec);
    });
    const h = await setup(backend);
    const submitted = await h.submit({ steps: STEPS });

    const mid = await waitFor('progress step 3', async () => {
      const job = await h.job(submitted.id);
      return job.progress_step === 3 ? job : undefined;
    });
    expect(mid.status).toBe('running');
    expect(mid.progress_total).toBe(STEPS);
    expect(mid.progress).toBeCloseTo(3 / STEPS);
    release();

    const job = await h.waitForTerminal(submitted.id);
    expect(job.status).toBe('succeeded');
    expect(job.progress_step).toBe(STEPS);
    expect(job.progress_total).toBe(STEPS);
    expect(job.progress).toBe(1);
    const progress = (await h.eventsOf(job.id)).filter((e) => e.type === 'progress');
    expect(progress).toHaveLength(STEPS);
    expect(progress.map((e) => e.data.step)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.map((e) => e.data.totalSteps)).toEqual([5, 5, 5, 5, 5]);
    expect(progress.at(-1)!.data.progress).toBe(1);
  });

  it('a retry resets progress before the next attempt reports its own', async () => {
    const { backend } = fakeBackend(async (spec, ctx, call) => {
      ctx.onProgress({ step: 1, totalSteps: 2 });
      if (call === 1) throw new Error('first attempt dies after a step');
      ctx.onProgress({ step: 2, totalSteps: 2 });
      return imagesFor(spec);
    });
    const h = await setup(backend);
    const job = await h.waitForTerminal((await h.submit()).id);
    expect(job.status).toBe('succeeded');
    const types = (await h.eventsOf(job.id)).map((e) => e.type);
    expect(types).toEqual(['queued', 'running', 'progress', 'retrying', 'running', 'progress', 'progress', 'succeeded']);
  });
});
