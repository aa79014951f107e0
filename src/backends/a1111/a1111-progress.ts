import { setTimeout as sleep } from 'node:timers/promises';
import type { PreviewImage, Progress } from '../backend.js';
import { decodeBase64Image, toPreview } from './output-image.js';

/** GET /sdapi/v1/progress (api.py `progressapi`): `shared.state.dict()` and the live preview. */
export interface A1111ProgressBody {
  readonly state?: {
    readonly job_count?: number;
    readonly job_no?: number;
    readonly sampling_step?: number;
    readonly sampling_steps?: number;
  };
  readonly current_image?: string | null;
}

export interface ProgressPollerOptions {
  /** Reads /progress once; a rejection is a missed poll, not a failed job. */
  readonly poll: (signal: AbortSignal) => Promise<A1111ProgressBody | undefined>;
  readonly intervalMs: number;
  /** The denominator reported to Atelier, fixed for the whole job. */
  readonly totalSteps: number;
  readonly onProgress: (progress: Progress) => void;
  readonly onPreview?: ((preview: PreviewImage) => void) | undefined;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * The share of the job done, as A1111 counts it: `job_no` of `job_count` passes (hires fix
 * doubles `job_count`), plus the current pass's `sampling_step / sampling_steps`. Undefined
 * while the server is idle (`job_count` 0), i.e. before the request got the queue lock.
 */
export function progressFraction(body: A1111ProgressBody): number | undefined {
  const state = body.state ?? {};
  const jobCount = num(state.job_count);
  if (jobCount <= 0) return undefined;
  const steps = num(state.sampling_steps);
  const within = steps > 0 ? Math.min(1, num(state.sampling_step) / steps) : 0;
  return Math.max(0, Math.min(1, (num(state.job_no) + within) / jobCount));
}

/**
 * Polls /progress while a synchronous txt2img/img2img request runs and turns it into
 * monotonic `onProgress` events over a fixed `totalSteps` (A1111's own counters restart for
 * each pass, and an i2i pass runs only `steps × denoise` steps) and `onPreview` for each new
 * `current_image`. The last step is held back until the images are in hand: A1111 reports
 * the final sampling step before the VAE decode. `/progress` is global, so while the request
 * still waits behind another client's job, that job's progress shows; A1111 offers no task id
 * to tell them apart (api.py imports `current_task` by value, so it is always null).
 *
 * @example const poller = startProgressPoller({ poll, intervalMs: 500, totalSteps: 30, onProgress }); …; await poller.stop()
 */
export function startProgressPoller(options: ProgressPollerOptions): { stop(): Promise<void> } {
  const stopper = new AbortController();
  let lastStep = 0;
  let lastPreview: string | undefined;
  const handle = (body: A1111ProgressBody) => {
    const fraction = progressFraction(body);
    if (fraction === undefined) return;
    const step = Math.min(options.totalSteps - 1, Math.floor(fraction * options.totalSteps));
    if (step > lastStep) {
      lastStep = step;
      options.onProgress({ step, totalSteps: options.totalSteps });
    }
    const image = body.current_image;
    if (options.onPreview && typeof image === 'string' && image !== '' && image !== lastPreview) {
      lastPreview = image;
      const preview = toPreview(decodeBase64Image(image));
      if (preview) options.onPreview(preview);
    }
  };
  const loop = (async () => {
    while (!stopper.signal.aborted) {
      try {
        await sleep(options.intervalMs, undefined, { signal: stopper.signal });
        const body = await options.poll(stopper.signal);
        if (body && !stopper.signal.aborted) handle(body);
      } catch {
        // A missed or aborted poll only delays progress; the generation request decides the outcome.
      }
    }
  })();
  return {
    async stop() {
      stopper.abort();
      await loop;
    },
  };
}
