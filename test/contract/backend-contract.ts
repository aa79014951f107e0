import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, GenerateContext, GeneratedImage, GeneratedOutput, PreviewImage, Progress } from '../../src/backends/backend.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import type { ErrorCode } from '../../src/errors/catalog.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../src/errors/signals.js';
import { MODES, seedForImage, type JobSpec, type Mode } from '../../src/jobs/job-spec.js';
import { probeVideo } from '../../src/media/video/probe-video.js';
import { classifyError } from '../../src/runner/classify-error.js';

/** One failure the adapter's test server can be told to produce on the next job. */
export interface BackendFault<F extends BackendFixture = BackendFixture> {
  readonly name: string;
  /** Arms the fixture's test server: the next generation request fails this way. */
  inject(fixture: F): void;
  /** What the runner must make of it (classifyError): the stable code, and whether it retries. */
  readonly expected: { readonly code: ErrorCode; readonly retryable: boolean };
}

export interface BackendFixture {
  readonly backend: Backend;
  /** The backend promises identical pixels for the same spec and seed (the builtin does). */
  readonly deterministic?: boolean;
  /**
   * How to run a job that is still going when the test aborts it. `spec` makes it long (many
   * steps), `arm` tells the test server to hold it, and `busy` says the server is working on
   * it. Without `busy` the test aborts on the first progress event that counts a step.
   */
  readonly longJob?: { readonly spec?: Partial<JobSpec>; arm?(): void; busy?(): boolean };
  /** How many generation requests reached the test server, to show a refusal never did. */
  readonly serverCalls?: () => number;
  /**
   * Multiplies every size the suite asks for (default 1), for a backend whose front door takes
   * nothing as small as the suite's 48–64 px: the remote lane behind Atelier's HTTP API takes
   * 64 px and up, in multiples of 8. The sizes that probe declared limits are not scaled.
   */
  readonly sizeScale?: number;
  /**
   * Crash: the test server dies while our job runs — every socket it holds is destroyed and it
   * stops listening, as when its process is killed. The suite calls it once the job is running
   * (`longJob.busy()`, or else the first progress event that counts a step) and awaits it; it
   * resolves once the server is down. The job must then reject within SETTLE_MS with a
   * retryable error (CRASH_CODES) and never resolve with outputs. Nothing is expected of the
   * backend afterwards (its server is gone).
   *
   * @example crashMidJob: () => fake.close() // closeAllConnections() + server.close()
   */
  crashMidJob?(): Promise<void>;
  /**
   * Dropped connection: the test server destroys the connections our running job uses (all
   * it has open) but keeps listening, as a proxy or load balancer resetting them would. Called
   * (synchronously) once the job is running, like crashMidJob. Return how many connections it
   * destroyed where the server can count them: the case then fails on 0 — for an adapter that
   * recovers, a drop that did nothing would otherwise pass unnoticed. The job must settle
   * within SETTLE_MS: rejected with a retryable error (CRASH_CODES), or — for an adapter that
   * can pick the job up again (resumes an event stream, polls the server's history) — resolved
   * with exactly the outputs and progress a normal run gives. Either way the next job on the
   * same backend must work.
   *
   * @example dropConnectionMidJob: () => fake.dropConnections() // destroys its tracked sockets, returns their count; still listening
   */
  dropConnectionMidJob?(): number | void;
  /**
   * Rejection: the server answers the next generation request with its own validation error
   * (A1111's 422 `detail`, OpenAI's 400 `invalid_request_error`, ComfyUI's 400 `prompt error`,
   * a worker's `backend_rejected`). The job must fail unrecoverable `backend_rejected` after
   * exactly one server call (no retry inside the adapter), and the next job must work.
   * Fixtures with this hook must count `serverCalls`.
   */
  rejectNext?(): void;
  teardown(): Promise<void>;
}

/**
 * The retryable codes a crashed server or a dropped connection may be classified as:
 * `backend_failed`, or — the remote lane's word for it — `lease_expired` (the worker running
 * the job stopped heartbeating, noticed within one lease).
 *
 * Not `backend_timeout`: a crash or a drop resets our connections, so an adapter can tell at
 * once. One that only notices when its own time limit runs out would hang for that limit (30
 * minutes for a worker's backend) in production, and the short limits the fixtures use to
 * keep the suite fast would hide it: with `backend_timeout` allowed, a hook that did nothing
 * at all passed these cases.
 */
export const CRASH_CODES: readonly ErrorCode[] = Object.freeze(['backend_failed', 'lease_expired']);

/** Every failure must settle well within this; nothing in this suite waits longer. */
export const SETTLE_MS = 5_000;
/** Abort to rejection. */
export const CANCEL_MS = 1_500;

const BASE_SPEC: JobSpec = Object.freeze({
  mode: 't2i',
  model: 'contract',
  prompt: 'a red lighthouse on a cliff at dusk',
  negativePrompt: 'blurry',
  width: 64,
  height: 48,
  steps: 4,
  cfgScale: 7,
  sampler: 'Euler',
  seed: 1234,
  seedFixed: true,
  numImages: 1,
  hiresFix: false,
  priority: 0,
});

/** A small frozen spec; the sampler defaults to the backend's first (its default). */
export function contractSpec(backend: Backend, overrides: Partial<JobSpec> = {}): JobSpec {
  return Object.freeze({ ...BASE_SPEC, sampler: backend.capabilities.samplers[0] ?? 'Euler', ...overrides });
}

/** A GenerateContext that records progress and previews. */
export function recorder(signal: AbortSignal = new AbortController().signal, extra: Partial<GenerateContext> = {}) {
  const progress: Progress[] = [];
  const previews: PreviewImage[] = [];
  const ctx: GenerateContext = { signal, onProgress: (p) => progress.push(p), onPreview: (p) => previews.push(p), ...extra };
  return { ctx, progress, previews };
}

/** The outcome of a promise that must settle within `ms` (a hang fails the test, it does not stall it). */
export async function settle<T>(promise: Promise<T>, ms = SETTLE_MS): Promise<{ value?: T; error?: unknown; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = Symbol('hang');
  const limit = new Promise<typeof hang>((resolve) => (timer = setTimeout(() => resolve(hang), ms)));
  try {
    const outcome = await Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), limit]);
    if (outcome === hang) throw new Error(`the backend did not settle within ${ms} ms`);
    return { ...outcome, at: Date.now() };
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 5 ms until it holds; throws after `ms`. */
export async function until(what: string, check: () => boolean, ms = SETTLE_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A thrown value the runner can act on by class: a signal error or an AtelierError, never a plain Error. */
export function isTypedError(error: unknown): boolean {
  return error instanceof UnrecoverableError || error instanceof RetryableError || error instanceof CanceledError || error instanceof AtelierError;
}

const describeError = (error: unknown) => (error instanceof Error ? `${error.constructor.name} ${error.name}: ${error.message}` : String(error));

/** Asserts a failure is typed and classified as expected (code, retryable). */
export function expectClassified(error: unknown, expected: { code: ErrorCode; retryable: boolean }): void {
  expect(error, 'expected the job to fail').toBeDefined();
  expect(isTypedError(error), `an unclassified error is a defect: ${describeError(error)}`).toBe(true);
  expect(error, describeError(error)).not.toBeInstanceOf(CanceledError);
  const { code, retryable } = classifyError(error);
  expect({ code, retryable }, describeError(error)).toEqual(expected);
}

/** Asserts a failure is typed, retryable, and one of CRASH_CODES (what a crash or a drop may be). */
export function expectCrashClassified(error: unknown): void {
  expect(error, 'expected the job to fail').toBeDefined();
  expect(isTypedError(error), `an unclassified error is a defect: ${describeError(error)}`).toBe(true);
  expect(error, describeError(error)).not.toBeInstanceOf(CanceledError);
  const { code, retryable } = classifyError(error);
  expect(retryable, describeError(error)).toBe(true);
  expect(CRASH_CODES, describeError(error)).toContain(code);
}

/** Progress is monotonic non-decreasing, within a fixed positive totalSteps, and ends at it. */
export function expectSaneProgress(progress: readonly Progress[], opts: { complete: boolean } = { complete: true }): void {
  expect(progress.length, 'no progress was reported').toBeGreaterThan(0);
  const total = progress[0]!.totalSteps;
  expect(Number.isInteger(total) && total > 0, `totalSteps ${total}`).toBe(true);
  let last = 0;
  for (const p of progress) {
    expect(p.totalSteps, JSON.stringify(progress)).toBe(total);
    expect(Number.isInteger(p.step) && p.step >= 0 && p.step <= total, JSON.stringify(progress)).toBe(true);
    expect(p.step, `progress went backwards: ${JSON.stringify(progress)}`).toBeGreaterThanOrEqual(last);
    last = p.step;
  }
  if (opts.complete) expect(last, JSON.stringify(progress)).toBe(total);
}

/** Asserts the outputs are exactly the spec's images: count, index, seed, and decodable PNGs of its size. */
export async function expectImages(outputs: readonly GeneratedOutput[], spec: JobSpec, opts: { seeds?: 'exact' | 'any' } = {}): Promise<GeneratedImage[]> {
  expect(outputs).toHaveLength(spec.numImages);
  const images: GeneratedImage[] = [];
  for (const [i, output] of outputs.entries()) {
    expect(output.kind).toBe('image');
    const image = output as GeneratedImage;
    expect(image.index).toBe(i);
    if (opts.seeds !== 'any') expect(image.seed).toBe(seedForImage(spec, i));
    expect([image.width, image.height]).toEqual([spec.width, spec.height]);
    const meta = await sharp(image.data).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([spec.width, spec.height]);
    // Fully decodable, not only a readable header.
    const raw = await sharp(image.data, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
    expect([raw.info.width, raw.info.height]).toEqual([spec.width, spec.height]);
    images.push(image);
  }
  return images;
}

/** Decoded RGBA pixels, to compare images without their PNG metadata. */
export const pixels = (png: Buffer) => sharp(png).ensureAlpha().raw().toBuffer();

/** A solid-colour reference image for image-to-image, deliberately not of the job's size. */
export const referencePng = () => sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 40, g: 160, b: 220 } } }).png().toBuffer();

/**
 * What every Backend adapter must do, tested only through the port: outputs, capabilities as
 * data (honoured, and refused with a stable code when exceeded), progress, cancel, server-side
 * failures classified for the runner, determinism where claimed, and image-to-image where
 * declared. `setup` makes a fresh backend (and its test server) per test; `faults` are the
 * server-side failures that server can simulate (none for an in-process backend).
 *
 * Three cases every adapter with a server runs the same way, through fixture hooks (see
 * BackendFixture): `rejectNext` (a validation error: unrecoverable, one call, no retry),
 * `crashMidJob` (the server dies mid-job: retryable, never outputs, never a hang) and
 * `dropConnectionMidJob` (our connection is reset mid-job: no hang, retryable or recovered,
 * and the backend takes the next job). A fixture without a hook skips its case, saying why.
 *
 * @example backendContract('a1111', async () => ({ backend, serverCalls, teardown }), [{ name: 'HTTP 500', inject: (f) => f.fake.fail(…), expected: { code: 'backend_failed', retryable: true } }])
 */
export function backendContract<F extends BackendFixture>(name: string, setup: () => Promise<F>, faults: readonly BackendFault<F>[] = []): void {
  describe(`Backend contract: ${name}`, () => {
    let f: F;
    let backend: Backend;
    /** A size of the suite, scaled for a backend that takes nothing that small (sizeScale). */
    const px = (size: number) => size * (f.sizeScale ?? 1);
    const spec = (overrides: Partial<JobSpec> = {}) => contractSpec(backend, { width: px(BASE_SPEC.width), height: px(BASE_SPEC.height), ...overrides });

    beforeEach(async () => {
      f = await setup();
      backend = f.backend;
    });
    afterEach(async () => {
      // A setup that failed leaves nothing to tear down (and never the previous test's fixture).
      const done = f;
      f = undefined as unknown as F;
      await done?.teardown();
    });

    /** Runs a t2i job and checks its outputs; the backend must be usable (after a cancel or failure too). */
    const expectWorks = async (overrides: Partial<JobSpec> = {}) => {
      const s = spec(overrides);
      const { ctx } = recorder();
      const result = await settle(backend.generate(s, ctx));
      expect(result.error, describeError(result.error)).toBeUndefined();
      return expectImages(result.value!, s);
    };

    /** Expects `s` refused with capability_unsupported (unrecoverable), before reaching the server. */
    const expectRefused = async (s: JobSpec, code: ErrorCode = 'capability_unsupported') => {
      const calls = f.serverCalls?.() ?? 0;
      const { error } = await settle(backend.generate(s, recorder().ctx));
      expectClassified(error, { code, retryable: false });
      expect(f.serverCalls?.() ?? 0, 'the refused job reached the server').toBe(calls);
    };

    /**
     * Starts a long job (longJob) and returns once it is running: `busy()` holds, or else it
     * has reported a step. Fails if the job ended first, so the fault surely lands mid-job.
     */
    const startRunningJob = async () => {
      const { ctx, progress } = recorder();
      let ended = false;
      let stepped = false;
      f.longJob?.arm?.();
      const s = spec({ steps: Math.min(100, backend.capabilities.maxSteps), ...f.longJob?.spec });
      const job = backend.generate(s, {
        ...ctx,
        onProgress: (p) => {
          ctx.onProgress(p);
          if (p.step > 0) stepped = true;
        },
      });
      // Observed now, so a rejection before the test awaits it is not reported as unhandled.
      void job.then(() => (ended = true), () => (ended = true));
      const busy = f.longJob?.busy;
      await until('the job to be running', () => ended || (busy ? busy() : stepped));
      expect(ended, 'the job ended before the fault could land; make longJob longer').toBe(false);
      return { job, spec: s, progress };
    };

    describe('outputs', () => {
      it('t2i returns exactly numImages decodable PNGs of the spec size, each with its index and seed', async () => {
        expect(backend.capabilities.modes).toContain('t2i');
        const numImages = Math.min(2, backend.capabilities.maxBatch);
        const s = spec({ numImages });
        const { ctx } = recorder();
        await expectImages(await backend.generate(s, ctx), s);
      });

      it('a single image and a non-square size come out right too', async () => {
        await expectWorks({ width: px(48), height: px(64), numImages: 1, seed: 7 });
      });

      it('two jobs at once (the runner\'s concurrency) each get their own outputs', async () => {
        const [a, b] = await Promise.all([expectWorks({ seed: 100, numImages: 1 }), expectWorks({ seed: 200, numImages: 1, width: px(56) })]);
        expect([a[0]!.seed, b[0]!.seed]).toEqual([100, 200]);
      });
    });

    describe('capabilities', () => {
      it('declares its capabilities as data', () => {
        const caps = backend.capabilities;
        expect(caps.modes.length).toBeGreaterThan(0);
        for (const mode of caps.modes) expect(MODES).toContain(mode);
        expect(caps.samplers.length).toBeGreaterThan(0);
        for (const limit of [caps.maxWidth, caps.maxHeight, caps.maxSteps, caps.maxBatch]) expect(Number.isInteger(limit) && limit >= 1).toBe(true);
        expect(typeof caps.cancel).toBe('boolean');
        expect(typeof caps.preview).toBe('boolean');
        expect(typeof backend.kind).toBe('string');
        expect(backend.label.length).toBeGreaterThan(0);
      });

      it('accepts every sampler it declares', async () => {
        for (const sampler of backend.capabilities.samplers) await expectWorks({ sampler, steps: 2 });
      });

      it('refuses a mode it does not declare with capability_unsupported, before reaching the server', async ({ skip }) => {
        const undeclared = MODES.filter((mode) => !backend.capabilities.modes.includes(mode));
        if (undeclared.length === 0) return skip('declares every mode');
        for (const mode of undeclared) await expectRefused(spec({ mode: mode as Mode, ...(mode === 't2i' || mode === 'i2i' ? {} : { numFrames: 4, fps: 8 }) }));
      });

      it('refuses a sampler it does not declare', async () => {
        await expectRefused(spec({ sampler: 'No Such Sampler 9000' }));
      });

      it('refuses a batch, a size or a step count beyond its declared limits', async () => {
        const caps = backend.capabilities;
        await expectRefused(spec({ numImages: caps.maxBatch + 1 }));
        await expectRefused(spec({ width: caps.maxWidth + 64 }));
        await expectRefused(spec({ height: caps.maxHeight + 64 }));
        await expectRefused(spec({ steps: caps.maxSteps + 1 }));
      });

      it('sends no live previews when it declares none, and only decodable ones when it does', async () => {
        const { ctx, previews } = recorder();
        await backend.generate(spec({ steps: 6 }), ctx);
        if (!backend.capabilities.preview) expect(previews).toEqual([]);
        for (const preview of previews) {
          const meta = await sharp(preview.data).metadata();
          expect(`image/${meta.format}`).toBe(preview.mime);
        }
      });
    });

    describe('progress', () => {
      it('steps are monotonic, within totalSteps, and reach it when the job succeeds', async () => {
        const { ctx, progress } = recorder();
        await backend.generate(spec({ steps: 5, numImages: Math.min(2, backend.capabilities.maxBatch) }), ctx);
        expectSaneProgress(progress);
      });
    });

    describe('cancel', () => {
      it('aborting the signal mid-run rejects promptly with a CanceledError, and the backend takes the next job', async ({ skip }) => {
        if (!backend.capabilities.cancel) return skip('declares no cancel');
        const abort = new AbortController();
        let abortedAt = 0;
        const stop = () => {
          if (abortedAt === 0) {
            abortedAt = Date.now();
            abort.abort();
          }
        };
        const busy = f.longJob?.busy;
        const { ctx, progress } = recorder(abort.signal);
        f.longJob?.arm?.();
        const job = settle(
          backend.generate(spec({ steps: Math.min(100, backend.capabilities.maxSteps), ...f.longJob?.spec }), {
            ...ctx,
            onProgress: (p) => {
              ctx.onProgress(p);
              if (!busy && p.step > 0) stop();
            },
          }),
        );
        if (busy) {
          await until('the server to be working on the job', busy);
          stop();
        }
        const { error, value, at } = await job;
        expect(value, 'the job finished before it could be canceled; make longJob longer').toBeUndefined();
        expect(abortedAt).toBeGreaterThan(0);
        expect(error, describeError(error)).toBeInstanceOf(CanceledError);
        expect(at - abortedAt).toBeLessThan(CANCEL_MS);
        expectSaneProgress(progress, { complete: false });
        await expectWorks();
      });

      it('aborting right after generate is called rejects with a CanceledError, and the backend takes the next job', async ({ skip }) => {
        if (!backend.capabilities.cancel) return skip('declares no cancel');
        const abort = new AbortController();
        const job = settle(backend.generate(spec(), recorder(abort.signal).ctx));
        abort.abort();
        const { error } = await job;
        expect(error, describeError(error)).toBeInstanceOf(CanceledError);
        await expectWorks();
      });

      it('a signal aborted before the job starts rejects with a CanceledError without reaching the server', async ({ skip }) => {
        if (!backend.capabilities.cancel) return skip('declares no cancel');
        const abort = new AbortController();
        abort.abort(new CanceledError());
        const calls = f.serverCalls?.() ?? 0;
        const { error } = await settle(backend.generate(spec(), recorder(abort.signal).ctx));
        expect(error, describeError(error)).toBeInstanceOf(CanceledError);
        expect(f.serverCalls?.() ?? 0).toBe(calls);
        await expectWorks();
      });
    });

    describe('server-side failures', () => {
      if (faults.length === 0) it.skip('(the backend has no server to fail)', () => {});
      else it.each(faults.map((fault) => ({ ...fault, label: `${fault.name} → ${fault.expected.retryable ? 'retryable' : 'unrecoverable'} ${fault.expected.code}` })))(
        '$label: rejects classified, never hangs or returns outputs, and the next job runs',
        async (fault) => {
          fault.inject(f);
          const { error, value } = await settle(backend.generate(spec({ numImages: Math.min(2, backend.capabilities.maxBatch) }), recorder().ctx));
          expect(value, `${fault.name}: resolved with outputs`).toBeUndefined();
          expectClassified(error, fault.expected);
          await expectWorks();
        },
      );
    });

    describe('crash, dropped connection, rejection (fixture hooks)', () => {
      it('a request the server rejects as invalid fails unrecoverable backend_rejected after exactly one server call, and the next job runs', async ({ skip }) => {
        if (!f.rejectNext) return skip('no server to reject a request (the fixture has no rejectNext)');
        expect(f.serverCalls, 'a fixture with rejectNext must count serverCalls').toBeDefined();
        const calls = f.serverCalls!();
        f.rejectNext();
        const { error, value } = await settle(backend.generate(spec(), recorder().ctx));
        expect(value, 'the rejected job resolved with outputs').toBeUndefined();
        expectClassified(error, { code: 'backend_rejected', retryable: false });
        expect(f.serverCalls!() - calls, 'the adapter retried a rejected request (or never sent it)').toBe(1);
        await expectWorks();
      });

      it('the server crashing mid-job (sockets destroyed, not listening) rejects the job retryable within SETTLE_MS, never with outputs', async ({ skip }) => {
        if (!f.crashMidJob) return skip('no server to crash (the fixture has no crashMidJob)');
        const { job } = await startRunningJob();
        await f.crashMidJob();
        const { error, value } = await settle(job);
        expect(value, 'resolved with outputs after its server died').toBeUndefined();
        expectCrashClassified(error);
      });

      it('a connection dropped mid-job never hangs: the job fails retryable or recovers with exact outputs, and the next job runs', async ({ skip }) => {
        if (!f.dropConnectionMidJob) return skip('no server connection to drop (the fixture has no dropConnectionMidJob)');
        const { job, spec: s, progress } = await startRunningJob();
        const dropped = f.dropConnectionMidJob();
        if (typeof dropped === 'number') expect(dropped, 'the hook dropped no connection').toBeGreaterThan(0);
        const { error, value } = await settle(job);
        if (error === undefined) {
          // Recovered (the adapter picked the job up again): exactly what a normal run gives.
          await expectImages(value!, s);
          expectSaneProgress(progress);
        } else {
          expectCrashClassified(error);
        }
        await expectWorks();
      });
    });

    describe('determinism', () => {
      it('the same spec and seed give identical pixels, and image i of a batch is image 0 at seed + i (where claimed)', async ({ skip }) => {
        if (!f.deterministic) return skip('claims no determinism');
        const s = spec({ numImages: 2 });
        const [a, b] = [await backend.generate(s, recorder().ctx), await backend.generate(s, recorder().ctx)] as [GeneratedImage[], GeneratedImage[]];
        for (let i = 0; i < 2; i++) expect((await pixels(a[i]!.data)).equals(await pixels(b[i]!.data))).toBe(true);
        const [alone] = (await backend.generate(spec({ seed: s.seed + 1 }), recorder().ctx)) as GeneratedImage[];
        expect((await pixels(alone!.data)).equals(await pixels(a[1]!.data))).toBe(true);
        expect((await pixels(a[0]!.data)).equals(await pixels(a[1]!.data))).toBe(false);
      });
    });

    describe('image-to-image (where declared)', () => {
      it('renders numImages images of the spec size from a reference of another size', async ({ skip }) => {
        if (!backend.capabilities.modes.includes('i2i')) return skip('declares no i2i');
        const s = spec({ mode: 'i2i', denoiseStrength: 0.5, numImages: Math.min(2, backend.capabilities.maxBatch) });
        const { ctx, progress } = recorder(undefined, { inputs: { reference: await referencePng() } });
        const result = await settle(backend.generate(s, ctx));
        expect(result.error, describeError(result.error)).toBeUndefined();
        await expectImages(result.value!, s);
        expectSaneProgress(progress);
      });

      it('refuses an i2i reference that does not decode as invalid_image (retrying cannot help)', async ({ skip }) => {
        if (!backend.capabilities.modes.includes('i2i')) return skip('declares no i2i');
        const calls = f.serverCalls?.() ?? 0;
        const garbage = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('not really a png')]);
        const { error } = await settle(backend.generate(spec({ mode: 'i2i', denoiseStrength: 0.5 }), recorder(undefined, { inputs: { reference: garbage } }).ctx));
        expectClassified(error, { code: 'invalid_image', retryable: false });
        expect(f.serverCalls?.() ?? 0, 'the undecodable reference reached the server').toBe(calls);
      });

      it('refuses an i2i job without its reference image as invalid_parameter', async ({ skip }) => {
        if (!backend.capabilities.modes.includes('i2i')) return skip('declares no i2i');
        await expectRefused(spec({ mode: 'i2i', denoiseStrength: 0.5 }), 'invalid_parameter');
      });
    });

    describe('text-to-video (where declared)', () => {
      it('writes one H.264 MP4 of the spec size into the work directory', async ({ skip }) => {
        if (!backend.capabilities.modes.includes('t2v')) return skip('declares no t2v');
        const workDir = await mkdtemp(join(tmpdir(), 'atelier-contract-'));
        try {
          const s = spec({ mode: 't2v', numFrames: 4, fps: 8, steps: 2 });
          const outputs = await backend.generate(s, recorder(undefined, { workDir }).ctx);
          expect(outputs).toHaveLength(1);
          const video = outputs[0]!;
          expect(video).toMatchObject({ kind: 'video', index: 0, seed: s.seed, width: s.width, height: s.height });
          if (video.kind !== 'video') return;
          expect(video.file.startsWith(workDir)).toBe(true);
          expect((await stat(video.file)).size).toBeGreaterThan(0);
          expect(await probeVideo(video.file)).toMatchObject({ width: s.width, height: s.height });
        } finally {
          await rm(workDir, { recursive: true, force: true });
        }
      });
    });
  });
}
