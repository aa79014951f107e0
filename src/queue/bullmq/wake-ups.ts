import { EventEmitter, on } from 'node:events';

/**
 * Wake-ups for runners sleeping in `waitForWork`, per lane. Fed by this process's own
 * enqueues and by BullMQ's QueueEvents stream (`waiting`: work now; `delayed`: work at a time),
 * so nothing polls Redis. A wake-up nobody waited for stays pending until a claim on its
 * lane, so one landing between an empty claim and the next wait is not lost.
 */
export function createWakeUps() {
  const wake = new EventEmitter();
  wake.setMaxListeners(0);
  const pending = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const closing = new AbortController();

  function notify(lane: string): void {
    pending.add(lane);
    wake.emit('work', lane);
  }

  return {
    notify,

    /** Wakes the lane's waiters at `at` (epoch ms), when a delayed job becomes due. */
    at(lane: string, at: number): void {
      const delay = at - Date.now();
      if (delay <= 0) return notify(lane);
      const key = `${lane}\n${at}`;
      if (timers.has(key)) return;
      const timer = setTimeout(() => {
        timers.delete(key);
        notify(lane);
      }, delay);
      timer.unref();
      timers.set(key, timer);
    },

    /** A claim on these lanes is about to look: their pending wake-ups are spent. */
    claiming(lanes: readonly string[]): void {
      for (const lane of lanes) pending.delete(lane);
    },

    async wait(lanes: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
      if (lanes.some((lane) => pending.has(lane))) return;
      const timeout = AbortSignal.timeout(Math.max(0, timeoutMs));
      const stop = AbortSignal.any(signal ? [signal, timeout, closing.signal] : [timeout, closing.signal]);
      try {
        for await (const [lane] of on(wake, 'work', { signal: stop })) {
          if (lanes.includes(lane as string)) return;
        }
      } catch {
        // Timed out or aborted: the caller claims again either way.
      }
    },

    close(): void {
      closing.abort();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      wake.removeAllListeners();
    },
  };
}

export type WakeUps = ReturnType<typeof createWakeUps>;
