/**
 * A value loaded on demand and kept for a while, for lists an upstream serves (checkpoints,
 * samplers…). Concurrent callers share one load; a failed load is not kept; each caller's
 * signal abandons only its own wait, never the shared load (which has its own timeout).
 */
export interface CachedValue<T> {
  /** The kept value while it is younger than the TTL, else a fresh load. */
  get(signal?: AbortSignal): Promise<T>;
  /** A fresh load (or the one already under way), e.g. once more before calling a name unknown. */
  refresh(signal?: AbortSignal): Promise<T>;
}

/**
 * @example const models = createCachedValue(() => fetchModels(), 60_000); await models.get(ctx.signal)
 */
export function createCachedValue<T>(load: () => Promise<T>, ttlMs: number, now: () => number = Date.now): CachedValue<T> {
  let kept: { value: T; at: number } | undefined;
  let loading: Promise<T> | undefined;
  const start = (): Promise<T> => {
    if (!loading) {
      const at = now();
      loading = load().then(
        (value) => {
          kept = { value, at };
          loading = undefined;
          return value;
        },
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      );
    }
    return loading;
  };
  return {
    get: (signal) => (kept && now() - kept.at < ttlMs ? Promise.resolve(kept.value) : untilAborted(start(), signal)),
    refresh: (signal) => untilAborted(start(), signal),
  };
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
