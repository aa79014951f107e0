/**
 * The fake A1111's task queue: the global FIFO `queue_lock` (one generation at a time, in
 * arrival order, as A1111 ≥ 1.6 does) and modules/progress.py's bookkeeping behind
 * POST /internal/progress (`pending_tasks`, `current_task`, the last 16 `finished_tasks`).
 */
import { randomBytes } from 'node:crypto';

/** One txt2img/img2img request as the server handled it. */
export interface FakeTask {
  /** `force_task_id` when the request sent one, else A1111's own `task(txt2img-XXXXXXX)`. */
  readonly id: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** `lost`: the server crashed before or while running it. */
  status: 'queued' | 'running' | 'done' | 'lost';
  /** An /interrupt stopped it early. */
  interrupted: boolean;
  stepsDone: number;
  /** The title of the checkpoint that rendered (the current one when the override was unknown). */
  checkpoint?: string;
  /** The sampler that ran (≥ 1.9 falls back silently). */
  sampler?: string;
  /** `skipped`: the ControlNet script failed on a unit and the job went on without ControlNet. */
  controlnet: 'none' | 'applied' | 'skipped';
}

/** create_task_id: `task(txt2img-<7 of A-Z0-9>)`. */
export function a1111TaskId(kind: string): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `task(${kind}-${[...randomBytes(7)].map((b) => chars[b % chars.length]).join('')})`;
}

export function createFakeQueue() {
  const pending = new Map<string, number>();
  const finished: string[] = [];
  let current: string | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    /** add_task_to_queue: called before the request waits for the lock. */
    add(id: string) {
      pending.set(id, Date.now());
    },
    /** Runs `work` when every earlier request is done. */
    run<T>(work: () => Promise<T>): Promise<T> {
      const next = chain.then(work);
      chain = next.catch(() => undefined);
      return next;
    },
    /** start_task, right after state.begin(). */
    start(id: string) {
      current = id;
      pending.delete(id);
    },
    /** finish_task. */
    finish(id: string) {
      if (current === id) current = undefined;
      finished.push(id);
      if (finished.length > 16) finished.shift();
    },
    /** A crash: the process that knew these tasks is gone. */
    reset() {
      pending.clear();
      finished.length = 0;
      current = undefined;
    },
    /** progress.py `progressapi` for a task id (live_preview not modelled). */
    progress(id: unknown, state: { job_count: number; job_no: number; sampling_step: number; sampling_steps: number }) {
      const key = typeof id === 'string' ? id : '';
      const active = key !== '' && key === current;
      const queued = pending.has(key);
      const completed = finished.includes(key);
      if (!active) {
        const order = [...pending.keys()];
        const textinfo = queued ? `In queue: ${order.indexOf(key) + 1}/${order.length}` : 'Waiting...';
        return { active, queued, completed, progress: null, eta: null, live_preview: null, id_live_preview: -1, textinfo };
      }
      let progress = 0;
      if (state.job_count > 0) progress += state.job_no / state.job_count;
      if (state.sampling_steps > 0 && state.job_count > 0) progress += (state.sampling_step / state.sampling_steps) / state.job_count;
      return { active, queued, completed, progress: Math.min(progress, 1), eta: null, live_preview: null, id_live_preview: -1, textinfo: null };
    },
    pendingIds: () => [...pending.keys()],
  };
}
