/**
 * Stopping our own task on an A1111 server after Atelier gave up on it (a cancel, or an
 * answer past its time). A1111 keeps running a request whose client went away, and
 * /sdapi/v1/interrupt is global and short-lived: it flags whatever task runs *now*, and the
 * next task's `State.begin()` (modules/shared_state.py) clears the flag. So an interrupt sent
 * while our request still waits behind another client's task stops that task instead and is
 * undone when ours starts, which then renders to the end for nobody.
 *
 * Hence: every request carries `force_task_id` (A1111 ≥ 1.8, Forge), and POST
 * /internal/progress (modules/progress.py) says whether that task is queued, active or
 * completed. The interrupt is sent when — and only when — it is active (`start_task` runs right
 * after `begin()`, so the flag then sticks); while it is queued nothing is sent, so the other
 * client's task is left alone. This is bounded: it ends when the task is interrupted or
 * completed, when our request settles, at a deadline (the request's own time limit), when the
 * server is unreachable three times in a row (a restarted server has no queue), or on close().
 *
 * A server started with `--nowebui` has no /internal/progress, and one older than 1.8 ignores
 * `force_task_id`; nothing then tells our task from another. There the interrupt is sent at
 * once and, while our request has not settled, again every poll interval, so our task is
 * stopped within one interval of its start — at the price of also stopping any task that
 * starts before it. After a timeout (no request left to watch) it is sent once, as before.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** What POST /internal/progress says about a task id; `unavailable`: no such route or shape. */
export type A1111TaskState = 'active' | 'queued' | 'completed' | 'unknown' | 'unavailable' | 'unreachable';

export interface StopTaskOptions {
  readonly taskState: () => Promise<A1111TaskState>;
  /** Best effort; never rejects. */
  readonly interrupt: () => Promise<unknown>;
  /** Settles when our request ends; absent when it already has (a timeout). */
  readonly settled?: Promise<unknown>;
  readonly pollMs: number;
  /** Epoch ms after which nothing more is sent. */
  readonly deadline: number;
  /** How long the server may not know our id before ids are taken as unsupported (pre-1.8). */
  readonly unknownGraceMs: number;
  /** Aborted when the backend closes. */
  readonly signal: AbortSignal;
}

export interface TaskStop {
  /** Resolves once the first decision is acted on (an interrupt sent, or none needed yet). */
  readonly decided: Promise<void>;
  /** Resolves when nothing more will be sent; never rejects. */
  readonly finished: Promise<void>;
}

/**
 * @example const stop = stopTask({ taskState, interrupt, settled, pollMs: 500, deadline, unknownGraceMs: 2000, signal }); await stop.decided
 */
export function stopTask(options: StopTaskOptions): TaskStop {
  const started = Date.now();
  let settled = false;
  /** Cuts a pause short when the request settles or the backend closes. */
  const wake = new AbortController();
  const onClose = () => wake.abort();
  options.signal.addEventListener('abort', onClose, { once: true });
  const onSettled = () => {
    settled = true;
    wake.abort();
  };
  void options.settled?.then(onSettled, onSettled);
  const over = () => settled || options.signal.aborted || Date.now() > options.deadline;
  const pause = () => sleep(options.pollMs, undefined, { signal: wake.signal }).catch(() => undefined);

  let decide: () => void = () => undefined;
  const decided = new Promise<void>((resolve) => (decide = resolve));

  const blindly = async () => {
    await options.interrupt();
    decide();
    if (options.settled === undefined) return;
    while (!over()) {
      await pause();
      if (!over()) await options.interrupt();
    }
  };

  const watch = async () => {
    let unreachable = 0;
    while (!over()) {
      const state = await options.taskState();
      if (over()) return;
      if (state === 'active') return void (await options.interrupt());
      if (state === 'completed') return;
      if (state === 'unavailable' || (state === 'unknown' && Date.now() - started > options.unknownGraceMs)) return blindly();
      unreachable = state === 'unreachable' ? unreachable + 1 : 0;
      if (unreachable >= 3) return;
      decide();
      await pause();
    }
  };

  const finished = watch()
    .catch(() => undefined)
    .finally(() => {
      decide();
      options.signal.removeEventListener('abort', onClose);
    });
  return { decided, finished };
}
