import { RetryableError } from '../../errors/signals.js';
import { abortReason } from '../a1111/abort-reason.js';
import type { GenerateContext } from '../backend.js';

/**
 * Runs one backend call under two limits: `warmupMs` until the backend shows it started — its
 * first progress event, or `onStarted` (model loading can take minutes, seed 001) — and
 * `generationMs` for the whole call. Passing either
 * aborts the call and throws a retryable `backend_timeout` — even if the backend ignores its
 * signal; the caller's own cancel still surfaces as a cancel.
 */
export async function withTimeLimits<T>(
  run: (ctx: GenerateContext) => Promise<T>,
  ctx: GenerateContext,
  limits: { readonly warmupMs: number; readonly generationMs: number },
): Promise<T> {
  // Canceled between picking an instance and this call: an 'abort' listener added now would
  // never fire, and the backend would run the whole job with a signal that never aborts.
  if (ctx.signal.aborted) throw abortReason(ctx.signal);
  const abort = new AbortController();
  // A plain abort() has a DOMException as its reason; the caller's cancel must still reject
  // as a CanceledError, like every adapter's does (a signal error given as reason passes).
  const onCallerAbort = () => abort.abort(abortReason(ctx.signal));
  ctx.signal.addEventListener('abort', onCallerAbort, { once: true });
  let timedOut: string | undefined;
  const expire = (what: string) => {
    timedOut = what;
    abort.abort(new RetryableError(`The backend ${what}`, 'backend_timeout'));
  };
  let warmup: NodeJS.Timeout | undefined = setTimeout(() => expire(`did not start within ${limits.warmupMs / 1000} s (warm-up / model loading)`), limits.warmupMs);
  const total = setTimeout(() => expire(`did not finish within ${limits.generationMs / 1000} s`), limits.generationMs);
  // A backend that ignores its signal must not hang the job: the limit settles the call.
  const stopped = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }));
  try {
    const started = () => {
      clearTimeout(warmup);
      warmup = undefined;
    };
    const call = run({
      ...ctx,
      signal: abort.signal,
      onStarted: () => {
        started();
        ctx.onStarted?.();
      },
      onProgress: (progress) => {
        started();
        ctx.onProgress(progress);
      },
    });
    call.catch(() => undefined);
    return await Promise.race([call, stopped]);
  } catch (error) {
    if (timedOut) throw new RetryableError(`The backend ${timedOut}`, 'backend_timeout', { cause: error });
    throw error;
  } finally {
    clearTimeout(warmup);
    clearTimeout(total);
    ctx.signal.removeEventListener('abort', onCallerAbort);
  }
}
