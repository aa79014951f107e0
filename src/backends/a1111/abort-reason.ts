import { CanceledError, RetryableError, UnrecoverableError } from '../../errors/signals.js';

/**
 * What an aborted generation throws. The runner aborts without a reason on cancel (a
 * CanceledError), while a wrapper such as routing's time limits aborts *with* a signal error
 * (a retryable `backend_timeout`) that must reach the runner unchanged. Shared by the a1111
 * and openai adapters and by routing (time-limits, routed-backend).
 *
 * @example if (ctx.signal.aborted) throw abortReason(ctx.signal)
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof CanceledError || reason instanceof RetryableError || reason instanceof UnrecoverableError) return reason;
  return new CanceledError();
}
