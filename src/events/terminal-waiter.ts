import { TERMINAL_STATUSES } from '../jobs/job-status.js';
import type { EventBus } from './event-bus.js';

const TERMINAL = new Set<string>(TERMINAL_STATUSES);

/** Why a {@link TerminalWaiter} stopped waiting. */
export type WaitEnd = 'terminal' | 'timeout' | 'aborted';

export interface TerminalWaiter {
  /**
   * Resolves when a terminal event (`succeeded`, `failed`, `canceled`) of the job arrives, when
   * `timeoutMs` has passed, or when `signal` aborts — whichever comes first. Call it once.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<WaitEnd>;
  /** Unsubscribes and clears the timer; idempotent. Always call it (in a `finally`). */
  stop(): void;
}

/**
 * Listens for the end of one job on the event bus — the same events SSE streams relay, from
 * this node or (over Redis) from the node running the job — without reading the database.
 * It subscribes at once, so the caller can read the job's state *after* subscribing and miss
 * nothing in between; a terminal event that arrives before `wait` is kept.
 *
 * Each waiter holds one bus listener and, while waiting, one timer; both go on `stop`, on the
 * timeout and on abort, so an abandoned request leaves nothing behind. The bus is best-effort
 * (an event published while Redis reconnects can be lost): callers read the job's state again
 * when the wait ends, so a lost event costs time, never a wrong answer.
 *
 * @example
 * const waiter = createTerminalWaiter(bus, job.id);
 * try {
 *   if (!isTerminal((await jobs.findById(job.id))!.status)) await waiter.wait(30_000, signal);
 * } finally {
 *   waiter.stop();
 * }
 */
export function createTerminalWaiter(bus: Pick<EventBus, 'subscribe'>, jobId: string): TerminalWaiter {
  let ended = false;
  let wake: ((end: WaitEnd) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let signal: AbortSignal | undefined;
  let unsubscribe: (() => void) | undefined = bus.subscribe(jobId, (event) => {
    if (!TERMINAL.has(event.type)) return;
    ended = true;
    finish('terminal');
  });

  function finish(end: WaitEnd): void {
    const resolve = wake;
    stop();
    resolve?.(end);
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = undefined;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    onAbort = undefined;
    wake = undefined;
  }

  return {
    wait(timeoutMs, abortSignal) {
      if (ended) return Promise.resolve('terminal');
      if (abortSignal?.aborted) {
        stop();
        return Promise.resolve('aborted');
      }
      if (!unsubscribe) return Promise.resolve('aborted');
      return new Promise<WaitEnd>((resolve) => {
        wake = resolve;
        timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs));
        if (abortSignal) {
          signal = abortSignal;
          onAbort = () => finish('aborted');
          abortSignal.addEventListener('abort', onAbort, { once: true });
        }
      });
    },
    stop,
  };
}
