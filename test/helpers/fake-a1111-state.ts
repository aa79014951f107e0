/**
 * The fake A1111's `shared.state` (modules/shared_state.py) and one synchronous generation
 * (processing.py), kept apart from the HTTP routes in fake-a1111.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { colourPng } from './seed-png.js';

/** `shared.state.dict()` plus the live preview. */
export interface FakeState {
  job: string;
  job_count: number;
  job_no: number;
  job_timestamp: string;
  sampling_step: number;
  sampling_steps: number;
  interrupted: boolean;
  skipped: boolean;
  current_image: string | null;
}

export const idleState = (): FakeState => ({ job: '', job_count: 0, job_no: 0, job_timestamp: '0', sampling_step: 0, sampling_steps: 0, interrupted: false, skipped: false, current_image: null });

const pad = (n: number) => String(n).padStart(2, '0');
/** `datetime.now().strftime("%Y%m%d%H%M%S")`: one-second resolution, so two tasks can share it. */
const timestamp = (d = new Date()) => `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;

/**
 * `State.begin()`: a task that got the queue lock starts. It clears `interrupted`, so an
 * /interrupt sent while the task still waited for the lock is lost.
 */
export function beginJob(state: FakeState, job: string): void {
  Object.assign(state, { job, job_count: -1, job_no: 0, job_timestamp: timestamp(), sampling_step: 0, current_image: null, interrupted: false, skipped: false });
}

/** `State.end()`: only `job` and `job_count` change; an /interrupt sent now stays set until the next begin(). */
export function endJob(state: FakeState): void {
  Object.assign(state, { job: '', job_count: 0 });
}

/** What a generation does besides sampling: the drop and slow faults. */
export interface RunHooks {
  readonly stepDelayMs: number;
  readonly previews: boolean;
  /** Called after each step; returning true stops the run at once (the connection was dropped). */
  readonly afterStep: (done: number) => boolean;
  /** Extra time after sampling, cut short by /interrupt. */
  readonly holdMs: number;
  /** False once the server closed or crashed: the run ends without an answer. */
  readonly alive: () => boolean;
}

const int = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback);

/**
 * Runs one txt2img/img2img body, after {@link beginJob}, the way A1111's state shows it:
 * `job_count` passes (two with hires fix), `sampling_steps` per pass (`steps ×
 * denoising_strength` for img2img), a new `current_image` per step, and an early stop on
 * /interrupt (A1111 then still answers with what it has). Returns the steps sampled, or
 * undefined when the run was dropped.
 */
export async function runSampling(state: FakeState, body: Record<string, unknown>, img2img: boolean, hooks: RunHooks): Promise<number | undefined> {
  const steps = int(body.steps, 50);
  const hires = !img2img && body.enable_hr === true;
  const denoise = typeof body.denoising_strength === 'number' ? body.denoising_strength : 0.75;
  state.job_count = hires ? 2 : 1;
  let done = 0;
  for (let pass = 0; pass < state.job_count && !state.interrupted; pass += 1) {
    state.job_no = pass;
    state.sampling_step = 0;
    state.sampling_steps = img2img ? Math.max(1, Math.trunc(steps * denoise)) : pass === 1 ? int(body.hr_second_pass_steps, 0) || steps : steps;
    for (let s = 1; s <= state.sampling_steps; s += 1) {
      await sleep(hooks.stepDelayMs);
      if (!hooks.alive()) return undefined;
      if (state.interrupted) break;
      state.sampling_step = s;
      done += 1;
      if (hooks.previews) state.current_image = (await colourPng(done * 40, 8, 8)).toString('base64');
      if (hooks.afterStep(done)) return undefined;
    }
  }
  const until = Date.now() + hooks.holdMs;
  while (Date.now() < until && !state.interrupted) {
    if (!hooks.alive()) return undefined;
    await sleep(5);
  }
  return done;
}

/** The output size: hires fix goes to `hr_resize_x/y`, or `hr_scale` × the first pass. */
export function outputSize(body: Record<string, unknown>, img2img: boolean): { width: number; height: number } {
  const width = int(body.width, 512);
  const height = int(body.height, 512);
  if (img2img || body.enable_hr !== true) return { width, height };
  const scale = typeof body.hr_scale === 'number' ? body.hr_scale : 2;
  return { width: int(body.hr_resize_x, 0) || Math.round(width * scale), height: int(body.hr_resize_y, 0) || Math.round(height * scale) };
}
