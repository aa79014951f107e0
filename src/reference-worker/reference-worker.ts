import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import type { Backend, GeneratedOutput, GenerateInputs, PreviewImage } from '../backends/backend.js';
import { lazyWorkDir } from '../backends/lazy-work-dir.js';
import { CanceledError } from '../errors/signals.js';
import { mapInputsByRole } from '../jobs/conditioning.js';
import { classifyError } from '../runner/classify-error.js';
import { createWorkerClient, isLeaseLost, isTransient, ProtocolError, type CompletionAnswer, type OutputPart, type WorkerClaim, type WorkerClient } from './worker-client.js';

export interface ReferenceWorkerOptions {
  /** The Atelier server, e.g. https://atelier.example.com */
  readonly server: string;
  /** A worker token (atw_…). */
  readonly token: string;
  /** The local backend that renders (builtin, or an adapter to a local ComfyUI/A1111). */
  readonly backend: Backend;
  /** Jobs run at once. Default 1. */
  readonly concurrency?: number;
  /** Remote backends (server configuration names) to take jobs of; default all. */
  readonly backends?: readonly string[];
  /**
   * How outputs reach the server. `multipart` (default): inside the completion callback, one
   * request, nothing staged; `direct` / `presigned`: PUT to the claim's upload URLs (lease
   * token, or presigned URLs), then a JSON callback naming them. A server that does not offer
   * the one-request completion (no upload.complete_parts in its claims) gets `direct`.
   */
  readonly uploadMode?: 'multipart' | 'direct' | 'presigned';
  /** This process's label, recorded as the lease owner. Default host:pid. */
  readonly workerId?: string;
  /** Long-poll length of a claim, ≤ 30. Default 25. */
  readonly waitSeconds?: number;
  /** Retries of unreachable/5xx calls: first delay, largest delay, and when to give up on a job's upload or callback. */
  readonly retry?: { readonly baseMs?: number; readonly maxMs?: number; readonly giveUpMs?: number };
  readonly log?: (line: string) => void;
  /** Injected for tests. */
  readonly client?: WorkerClient;
}

interface ActiveJob {
  readonly claim: WorkerClaim;
  readonly abort: AbortController;
  done: Promise<void>;
}

/** Why an attempt stopped early; decides whether the server hears about it. */
type Stop = { kind: 'canceled' } | { kind: 'lost' } | { kind: 'shutdown' };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * The reference remote worker (`atelier worker`): long-polls the server for jobs of its remote
 * backends, renders each on a local Backend with heartbeats carrying progress and previews,
 * and posts the completion callback with the outputs in it (or uploads them first, staged).
 * It rides out server restarts (every call retries with backoff until the server answers or
 * the lease is reported lost), stops a job when the server says it was canceled, and shuts
 * down cleanly: it stops claiming, finishes what it runs within a grace period, and gives
 * back what it could not finish.
 */
export function createReferenceWorker(options: ReferenceWorkerOptions) {
  const client = options.client ?? createWorkerClient(options.server, options.token);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const waitSeconds = Math.min(30, Math.max(0, options.waitSeconds ?? 25));
  const baseMs = options.retry?.baseMs ?? 500;
  const maxMs = options.retry?.maxMs ?? 15_000;
  const giveUpMs = options.retry?.giveUpMs ?? 10 * 60_000;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}`;
  const stopClaiming = new AbortController();
  const active = new Map<string, ActiveJob>();
  let shuttingDown = false;
  let fatal: Error | undefined;
  let completed = 0;
  let failed = 0;

  /** Runs `call` until it succeeds, the error is not transient, or `giveUpMs` passes. */
  async function withRetry<T>(what: string, call: () => Promise<T>, stop?: AbortSignal): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!isTransient(error) || Date.now() - started > giveUpMs || stop?.aborted) throw error;
        const delay = Math.min(maxMs, baseMs * 2 ** attempt);
        log(`${what} failed (${describe(error)}); retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay, stop);
      }
    }
  }

  async function slot(index: number): Promise<void> {
    let failures = 0;
    while (!stopClaiming.signal.aborted) {
      let claim: WorkerClaim | undefined;
      try {
        claim = await client.claim({ waitSeconds, uploadMode: options.uploadMode === 'presigned' ? 'presigned' : 'direct', workerId: `${workerId}#${index}`, ...(options.backends ? { backends: options.backends } : {}) }, stopClaiming.signal);
        if (failures > 0) log('server reachable again');
        failures = 0;
      } catch (error) {
        if (stopClaiming.signal.aborted) return;
        if (!isTransient(error)) {
          fatal = error instanceof Error ? error : new Error(String(error));
          log(`claim refused: ${describe(error)}; stopping`);
          stopClaiming.abort();
          return;
        }
        const delay = Math.min(maxMs * 2, baseMs * 2 ** failures++);
        log(`cannot claim (${describe(error)}); retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay, stopClaiming.signal);
        continue;
      }
      if (!claim) continue;
      const job: ActiveJob = { claim, abort: new AbortController(), done: Promise.resolve() };
      active.set(claim.job_id, job);
      job.done = runJob(job).finally(() => active.delete(claim.job_id));
      await job.done;
    }
  }

  async function runJob(job: ActiveJob): Promise<void> {
    const { claim } = job;
    const spec = claim.spec;
    log(`job ${claim.job_id}: claimed (attempt ${claim.attempt}/${claim.max_attempts}, ${claim.mode}, model ${claim.model}, ${claim.upload.count} ${claim.upload.type}${claim.upload.count > 1 ? 's' : ''})`);
    let stop: Stop | undefined;
    const halt = (why: Stop) => {
      if (stop) return;
      stop = why;
      job.abort.abort(why.kind === 'canceled' ? new CanceledError() : new CanceledError(`The attempt stopped: ${why.kind}`));
    };
    // A shutdown that gives up on this job aborts through here.
    job.abort.signal.addEventListener('abort', () => {
      if (!stop) stop = { kind: 'shutdown' };
    });

    let progress: { step: number; total_steps: number } | undefined;
    let preview: PreviewImage | undefined;
    let beating = false;
    // Once the completion is answered, heartbeats have nothing left to keep.
    let settled = false;
    const beat = async () => {
      if (beating || stop || settled) return;
      beating = true;
      try {
        const body = { lease_token: claim.lease_token, ...(progress ? { progress } : {}), ...(preview ? { preview_b64: preview.data.toString('base64') } : {}) };
        preview = undefined;
        const answer = await client.heartbeat(claim.job_id, body);
        if (!answer.continue) {
          log(`job ${claim.job_id}: canceled on the server; stopping the backend`);
          halt({ kind: 'canceled' });
        }
      } catch (error) {
        if (settled) return;
        if (isLeaseLost(error)) {
          log(`job ${claim.job_id}: lease lost (${describe(error)}); dropping it`);
          halt({ kind: 'lost' });
        } else {
          log(`job ${claim.job_id}: heartbeat failed (${describe(error)}); will retry`);
        }
      } finally {
        beating = false;
      }
    };
    const heartbeat = setInterval(() => void beat(), Math.max(100, claim.heartbeat_interval_seconds * 1000));
    const workDir = lazyWorkDir('atelier-worker-job-');
    try {
      const inputs = await downloadInputs(claim, job.abort.signal);
      const outputs = await options.backend.generate(spec, {
        signal: job.abort.signal,
        inputs,
        get workDir() {
          return workDir.path;
        },
        onProgress: ({ step, totalSteps }) => {
          progress = { step, total_steps: totalSteps };
        },
        onPreview: (image) => {
          preview = image;
        },
      });
      job.abort.signal.throwIfAborted();
      if (outputs.length !== claim.upload.count) throw new Error(`The backend returned ${outputs.length} outputs for a job of ${claim.upload.count}`);
      // Last progress before sending the outputs, so the server shows 100% meanwhile.
      await beat();
      const sorted = [...outputs].sort((a, b) => a.index - b.index);
      const answer = sendsWithCallback(claim) ? await completeWithOutputs(claim, sorted, job.abort.signal) : await uploadThenComplete(claim, sorted, job.abort.signal);
      settled = true;
      if (answer.status === 'succeeded') {
        completed++;
        log(`job ${claim.job_id}: succeeded (${answer.assets.length} asset${answer.assets.length === 1 ? '' : 's'})`);
      } else {
        failed++;
        log(`job ${claim.job_id}: the server could not use the outputs: ${answer.error?.message ?? answer.status}`);
      }
    } catch (error) {
      settled = true;
      await reportFailure(claim, error, stop);
    } finally {
      clearInterval(heartbeat);
      await workDir.remove();
    }
  }

  async function reportFailure(claim: WorkerClaim, error: unknown, stop: Stop | undefined): Promise<void> {
    if (stop?.kind === 'canceled' || stop?.kind === 'lost' || isLeaseLost(error)) {
      log(`job ${claim.job_id}: dropped (${stop?.kind ?? 'lease lost'})`);
      return;
    }
    const shutdown = stop?.kind === 'shutdown';
    const failure = shutdown
      ? { code: 'backend_failed', message: 'The worker shut down before finishing the job', retryable: true }
      : error instanceof ProtocolError
        ? { code: 'backend_failed', message: `The server refused the worker's ${error.code}: ${error.message}`, retryable: true }
        : classifyError(error);
    failed++;
    log(`job ${claim.job_id}: ${shutdown ? 'given back' : 'failed'}: ${failure.message} (${failure.code})`);
    try {
      await withRetry(`job ${claim.job_id}: failure callback`, () =>
        client.complete(claim.job_id, {
          lease_token: claim.lease_token,
          status: 'failed',
          assets: [],
          error_message: failure.message,
          error_code: failure.code,
          retryable: failure.retryable,
          metadata: { worker_id: workerId, backend: options.backend.kind },
        }),
      );
    } catch (callbackError) {
      log(`job ${claim.job_id}: could not report the failure (${describe(callbackError)}); the lease will expire`);
    }
  }

  function downloadInputs(claim: WorkerClaim, signal: AbortSignal): Promise<GenerateInputs> {
    return mapInputsByRole(claim.inputs, (url) => withRetry(`job ${claim.job_id}: input download`, () => client.download(url), signal));
  }

  /** Whether the outputs go inside the completion callback (see ReferenceWorkerOptions.uploadMode). */
  function sendsWithCallback(claim: WorkerClaim): boolean {
    const mode = options.uploadMode ?? 'multipart';
    // complete_parts may be missing: a server from before the one-request completion.
    return mode === 'multipart' && claim.upload.mode === 'direct' && Array.isArray(claim.upload.complete_parts);
  }

  function successCallback(claim: WorkerClaim, assets: Record<string, unknown>[]): Record<string, unknown> {
    return { lease_token: claim.lease_token, status: 'completed', assets, error_message: null, metadata: { worker_id: workerId, backend: options.backend.kind } };
  }

  /** One request: the callback JSON and every output as its file part. */
  function completeWithOutputs(claim: WorkerClaim, outputs: readonly GeneratedOutput[], signal: AbortSignal): Promise<CompletionAnswer> {
    signal.throwIfAborted();
    const body = successCallback(claim, outputs.map((output) => ({ type: output.kind, index: output.index, thumbnail_url: null, metadata: assetMetadata(output) })));
    const parts: OutputPart[] = outputs.map((output) => {
      const name = claim.upload.complete_parts[output.index];
      if (name === undefined) throw new Error(`No part name for asset ${output.index}`);
      return output.kind === 'image'
        ? { name, contentType: 'image/png', filename: `${output.index}.png`, data: output.data }
        : { name, contentType: 'video/mp4', filename: `${output.index}.mp4`, path: output.file };
    });
    return withRetry(`job ${claim.job_id}: completion with ${outputs.length} output${outputs.length === 1 ? '' : 's'}`, () => client.completeWithParts(claim.job_id, body, parts));
  }

  /** Staged: each output PUT to its upload URL, then the callback naming what the uploads returned. */
  async function uploadThenComplete(claim: WorkerClaim, outputs: readonly GeneratedOutput[], signal: AbortSignal): Promise<CompletionAnswer> {
    const keys: string[] = [];
    for (const output of outputs) {
      signal.throwIfAborted();
      keys.push(await withRetry(`job ${claim.job_id}: upload of asset ${output.index}`, () => upload(claim, output), signal));
    }
    signal.throwIfAborted();
    const body = successCallback(claim, outputs.map((output, i) => ({ type: output.kind, url: keys[i], thumbnail_url: null, metadata: assetMetadata(output) })));
    return withRetry(`job ${claim.job_id}: completion callback`, () => client.complete(claim.job_id, body));
  }

  function upload(claim: WorkerClaim, output: GeneratedOutput): Promise<string> {
    const url = claim.upload.urls[output.index];
    if (url === undefined) throw new Error(`No upload URL for asset ${output.index}`);
    return output.kind === 'image' ? client.upload(url, output.data, 'image/png') : client.upload(url, () => createReadStream(output.file), 'video/mp4');
  }

  let slots: Promise<void>[] = [];

  return {
    /** Starts the claim loops; resolves when they have all stopped (shutdown or a refused token). */
    async run(): Promise<void> {
      let info;
      try {
        info = await withRetry('connecting to the server', () => client.info(), stopClaiming.signal);
      } catch (error) {
        if (stopClaiming.signal.aborted) return;
        throw error;
      }
      const served = options.backends ?? info.backends.map((b) => b.name);
      log(`worker '${info.worker.name}' serving ${served.join(', ') || '(no remote backends configured on the server)'} with ${options.backend.label}, ${concurrency} at a time`);
      slots = Array.from({ length: concurrency }, (_, i) => slot(i));
      await Promise.all(slots);
      if (fatal) throw fatal;
    },

    /**
     * Stops claiming, waits up to `graceMs` for running jobs to finish, then stops the rest and
     * gives their jobs back to the server (a retryable failure, so they run again at once).
     */
    async shutdown(graceMs: number): Promise<void> {
      stopClaiming.abort();
      if (!shuttingDown) {
        shuttingDown = true;
        if (active.size > 0) log(`shutting down: waiting up to ${Math.round(graceMs / 1000)} s for ${active.size} running job(s)`);
      }
      const running = () => Promise.all([...active.values()].map((j) => j.done));
      // Waits that end early must not leave a timer holding the process open.
      const within = async (ms: number, work: Promise<unknown>): Promise<boolean> => {
        const timer = new AbortController();
        try {
          return await Promise.race([work.then(() => true), sleep(ms, timer.signal).then(() => false)]);
        } finally {
          timer.abort();
        }
      };
      if (!(await within(graceMs, running()))) {
        for (const job of active.values()) job.abort.abort(new CanceledError('The worker is shutting down'));
        await within(30_000, running());
      }
      await Promise.all(slots);
    },

    get stats() {
      return { completed, failed, running: active.size };
    },
  };
}

/** Seed 000's per-asset metadata, as far as the worker knows it (the server derives the rest). */
function assetMetadata(output: GeneratedOutput): Record<string, unknown> {
  const common = { width: output.width, height: output.height, seed: output.seed, asset_index: output.index };
  return output.kind === 'image' ? { ...common, format: 'png' } : { ...common, format: 'mp4', fps: output.fps, frame_count: output.frameCount };
}

function describe(error: unknown): string {
  if (error instanceof ProtocolError) return `${error.status} ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

export type ReferenceWorker = ReturnType<typeof createReferenceWorker>;
