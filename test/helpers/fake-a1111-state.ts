/**
 * The fake A1111's `shared.state` and one synchronous generation (processing.py), kept apart
 * from the HTTP routes in fake-a1111.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { colourPng } from './seed-png.js';

/** `shared.state.dict()` plus the live preview. */
export interface FakeState {
  job: string;
  job_count: number;
  job_no: number;
  sampling_step: number;
  sampling_steps: number;
  interrupted: boolean;
  skipped: boolean;
  current_image: string | null;
}

export const idleState = (): FakeState => ({ job: '', job_count: 0, job_no: 0, sampling_step: 0, sampling_steps: 0, interrupted: false, skipped: false, current_image: null });

/** What a generation does besides sampling: the drop and slow faults. */
export interface RunHooks {
  readonly stepDelayMs: number;
  readonly previews: boolean;
  /** Called after each step; returning true stops the run at once (the connection was dropped). */
  readonly afterStep: (done: number) => boolean;
  /** Extra time after sampling, cut short by /interrupt. */
  readonly holdMs: number;
  readonly isClosed: () => boolean;
}

const int = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback);

/**
 * Runs one txt2img/img2img body the way A1111's state shows it: `job_count` passes (two with
 * hires fix), `sampling_steps` per pass (`steps × denoising_strength` for img2img), a new
 * `current_image` per step, and an early stop on /interrupt (A1111 then still answers with
 * what it has). Returns false when the run was dropped.
 */
export async function runSampling(state: FakeState, body: Record<string, unknown>, img2img: boolean, hooks: RunHooks): Promise<boolean> {
  const steps = int(body.steps, 50);
  const hires = !img2img && body.enable_hr === true;
  const denoise = typeof body.denoising_strength === 'number' ? body.denoising_strength : 0.75;
  Object.assign(state, idleState(), { job: img2img ? 'scripts_img2img' : 'scripts_txt2img', job_count: hires ? 2 : 1 });
  let done = 0;
  for (let pass = 0; pass < state.job_count && !state.interrupted; pass += 1) {
    state.job_no = pass;
    state.sampling_step = 0;
    state.sampling_steps = img2img ? Math.max(1, Math.trunc(steps * denoise)) : pass === 1 ? int(body.hr_second_pass_steps, 0) || steps : steps;
    for (let s = 1; s <= state.sampling_steps; s += 1) {
      await sleep(hooks.stepDelayMs);
      if (state.interrupted || hooks.isClosed()) break;
      state.sampling_step = s;
      done += 1;
      if (hooks.previews) state.current_image = (await colourPng(done * 40, 8, 8)).toString('base64');
      if (hooks.afterStep(done)) return false;
    }
  }
  const until = Date.now() + hooks.holdMs;
  while (Date.now() < until && !state.interrupted && !hooks.isClosed()) await sleep(5);
  return true;
}

/** The output size: hires fix goes to `hr_resize_x/y`, or `hr_scale` × the first pass. */
export function outputSize(body: Record<string, unknown>, img2img: boolean): { width: number; height: number } {
  const width = int(body.width, 512);
  const height = int(body.height, 512);
  if (img2img || body.enable_hr !== true) return { width, height };
  const scale = typeof body.hr_scale === 'number' ? body.hr_scale : 2;
  return { width: int(body.hr_resize_x, 0) || Math.round(width * scale), height: int(body.hr_resize_y, 0) || Math.round(height * scale) };
}
